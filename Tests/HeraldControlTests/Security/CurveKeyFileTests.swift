import Foundation
import Glibc
import Testing
import ZeroMQ

@testable import HeraldControl

@Suite struct CurveKeyFileTests {
    func temporaryDirectory() -> String {
        FileManager.default.temporaryDirectory.appendingPathComponent("keys-\(UUID().uuidString)").path
    }

    func mode(_ path: String) -> mode_t {
        var info = stat()
        stat(path, &info)
        return info.st_mode & 0o777
    }

    @Test func writeAndReadBack() throws {
        let directory = temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let keys = try CurveKeyPair.generate()
        let (publicPath, secretPath) = try CurveKeyFile.write(keys, name: "alice", directory: directory)
        #expect(publicPath.hasSuffix("/alice.key") && secretPath.hasSuffix("/alice.key_secret"))
        #expect(mode(secretPath) == 0o600)
        #expect(mode(publicPath) == 0o644)
        #expect(mode(directory) == 0o700)
        #expect(try CurveKeyFile.readSecret(path: secretPath) == keys)
        #expect(try CurveKeyFile.readPublic(path: publicPath) == keys.publicKey)
        #expect(try CurveKeyFile.readPublicKeys(directory: directory) == ["alice": keys.publicKey])
        let text = try String(contentsOfFile: publicPath, encoding: .utf8)
        #expect(!text.contains("secret-key"))
        #expect(text.contains("    public-key = \"\(keys.publicKey)\""))
    }

    @Test func neverOverwritesWithoutBeingAsked() throws {
        let directory = temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let first = try CurveKeyPair.generate()
        let (_, secretPath) = try CurveKeyFile.write(first, name: "bob", directory: directory)
        #expect(throws: CurveKeyFile.Failure.exists(path: (directory as NSString).appendingPathComponent("bob.key"))) {
            try CurveKeyFile.write(try CurveKeyPair.generate(), name: "bob", directory: directory)
        }
        #expect(try CurveKeyFile.readSecret(path: secretPath) == first)
        let second = try CurveKeyPair.generate()
        try CurveKeyFile.write(second, name: "bob", directory: directory, overwrite: true)
        #expect(try CurveKeyFile.readSecret(path: secretPath) == second)
        #expect(try FileManager.default.contentsOfDirectory(atPath: directory).sorted() == ["bob.key", "bob.key_secret"])
    }

    @Test func refusesSecretsOthersCanRead() throws {
        let directory = temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let (_, secretPath) = try CurveKeyFile.write(try CurveKeyPair.generate(), name: "station", directory: directory)
        chmod(secretPath, 0o644)
        #expect(throws: CurveKeyFile.Failure.self) { try CurveKeyFile.readSecret(path: secretPath) }
        do { _ = try CurveKeyFile.readSecret(path: secretPath) } catch {
            #expect(error.description.contains("permissions 644 are too open"))
        }
    }

    @Test func rejectsDamagedFiles() throws {
        let directory = temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let keys = try CurveKeyPair.generate()
        let other = try CurveKeyPair.generate()
        let cases: [(String, String)] = [
            ("empty", ""),
            ("public only", "curve\n    public-key = \"\(keys.publicKey)\"\n"),
            ("short secret", "curve\n    public-key = \"\(keys.publicKey)\"\n    secret-key = \"abc\"\n"),
            ("mismatched pair", "curve\n    public-key = \"\(other.publicKey)\"\n    secret-key = \"\(keys.secretKey)\"\n"),
        ]
        for (name, text) in cases {
            let path = (directory as NSString).appendingPathComponent("\(name.replacingOccurrences(of: " ", with: "-")).key_secret")
            _ = FileManager.default.createFile(atPath: path, contents: Data(text.utf8), attributes: [.posixPermissions: 0o600])
            #expect(throws: CurveKeyFile.Failure.self, "\(name)") { try CurveKeyFile.readSecret(path: path) }
        }
        #expect(throws: CurveKeyFile.Failure.io(path: "/nonexistent/x.key", reason: "no such file")) {
            try CurveKeyFile.readPublic(path: "/nonexistent/x.key")
        }
    }
}
