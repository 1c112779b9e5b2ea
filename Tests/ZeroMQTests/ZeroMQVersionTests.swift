import Testing
import ZeroMQ

@Suite struct ZeroMQVersionTests {
    @Test func linksAgainstLibzmq4WithCurve() {
        // CURVE is on by default in Herald's control plane, so the library must have it.
        #expect(ZMQLibrary.version.major == 4)
        #expect(ZMQLibrary.has("curve"))
    }
}
