import Foundation
import Glibc
import Testing

/// Runs `herald node keys` as a separate process.
@Suite struct NodeKeysCommandTests {
    func run(_ arguments: [String]) async throws -> HeraldCLI.Result { try await HeraldCLI.run(arguments) }

    @Test func writesKeyFilesWithSafePermissions() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("node-keys-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let result = try await run(["node", "keys", "--out", directory, "alice", "bob", "--json"])
        #expect(result.status == 0, "\(result.stderr)")
        let object = try #require(try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any])
        let keys = try #require(object["keys"] as? [[String: String]])
        #expect(keys.map { $0["name"] } == ["alice", "bob"])
        for entry in keys {
            var info = stat()
            #expect(stat(try #require(entry["secret_file"]), &info) == 0)
            #expect(info.st_mode & 0o777 == 0o600)
            let publicText = try String(contentsOfFile: try #require(entry["public_file"]), encoding: .utf8)
            #expect(publicText.contains("public-key = \"\(try #require(entry["public_key"]))\""))
            #expect(!publicText.contains("secret-key"))
        }
        // A second run refuses before writing anything, so carol's files do not appear.
        let again = try await run(["node", "keys", "--out", directory, "carol", "alice"])
        #expect(again.status == 1)
        #expect(again.stderr.contains("alice.key already exists (use --force to replace it)"))
        #expect(!FileManager.default.fileExists(atPath: directory + "/carol.key"))
        #expect(try await run(["node", "keys", "--out", directory, "alice", "--force"]).status == 0)
    }

    @Test func rejectsBadNames() async throws {
        let result = try await run(["node", "keys", "--out", "/tmp/unused", "no spaces"])
        #expect(result.status == 64)
        #expect(result.stderr.contains("'no spaces' is not a node name"))
    }
}
