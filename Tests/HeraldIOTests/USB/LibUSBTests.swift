import HeraldIO
import Testing

@Suite struct LibUSBTests {
    @Test func linksAgainstLibUSB1() {
        // Debian 12 ships libusb 1.0.26; anything from the 1.0 series has the async API we use.
        let version = LibUSB.version
        #expect(version.major == 1)
        #expect(version >= LibUSB.Version(major: 1, minor: 0, micro: 20, nano: 0))
    }
}
