import ArgumentParser
import Foundation
import Herald
import ZeroMQ

/// `herald node keys`: CURVE key pairs for nodes, in files pyzmq and CZMQ read.
struct NodeKeysCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "keys",
        abstract: "Generate CURVE key pairs for nodes.",
        discussion: """
            Writes NAME.key (the public key: copy it to every node that must accept NAME) and
            NAME.key_secret (mode 0600: keep it on NAME only) for each NAME, into --out
            (created with mode 0700). Existing files are kept unless --force is given.
            The files are CZMQ/pyzmq certificates: zmq.auth.load_certificate reads them.

            Examples:
              herald node keys --out keys source alice bob
              herald node keys --out keys alice --force --json
            """)

    @Argument(help: "Node names (letters, digits, '-' and '_').")
    var names: [String]

    @Option(help: "Directory for the key files.")
    var out: String

    @Flag(help: "Replace existing key files.")
    var force = false

    @Flag(help: "Print the result as one JSON object.")
    var json = false

    struct Written: Encodable {
        var name: String
        var public_key: String
        var public_file: String
        var secret_file: String
    }

    func validate() throws {
        guard !names.isEmpty else { throw ValidationError("name at least one node") }
        for name in names where !isName(name) {
            throw ValidationError("'\(name)' is not a node name (letters, digits, '-' and '_')")
        }
        if Set(names).count != names.count { throw ValidationError("a node name is given twice") }
    }

    func run() async throws {
        // Check every name first, so a refusal leaves no new files behind.
        if !force {
            for name in names {
                for suffix in [".key", ".key_secret"] {
                    let path = (out as NSString).appendingPathComponent(name + suffix)
                    if FileManager.default.fileExists(atPath: path) {
                        FileHandle.standardError.write(Data("herald node keys: \(path) already exists (use --force to replace it)\n".utf8))
                        throw ExitCode(1)
                    }
                }
            }
        }
        var written: [Written] = []
        for name in names {
            let keys = try CurveKeyPair.generate()
            do {
                let (publicPath, secretPath) = try CurveKeyFile.write(keys, name: name, directory: out, overwrite: force)
                written.append(Written(name: name, public_key: keys.publicKey, public_file: publicPath, secret_file: secretPath))
            } catch {
                FileHandle.standardError.write(Data("herald node keys: \(error)\n".utf8))
                throw ExitCode(1)
            }
        }
        if json {
            try printJSON(["keys": written])
        } else {
            for entry in written {
                print("\(entry.name): public \(entry.public_file), secret \(entry.secret_file) (0600)")
            }
        }
    }
}
