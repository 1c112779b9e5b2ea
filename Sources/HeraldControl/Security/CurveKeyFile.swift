import Foundation
import Glibc
public import ZeroMQ

/// CURVE key pairs on disk, in the certificate format of CZMQ and pyzmq
/// (`zmq.auth.load_certificate` reads them): `NAME.key` holds the public key and may be shared;
/// `NAME.key_secret` holds both keys, is created with mode 0600, and is refused when group or
/// others can read it (as ssh refuses such private keys).
public enum CurveKeyFile {
    public enum Failure: Error, Sendable, Hashable, CustomStringConvertible {
        case exists(path: String)
        case io(path: String, reason: String)
        case malformed(path: String, reason: String)
        case tooOpen(path: String, mode: UInt32)

        public var description: String {
            switch self {
            case let .exists(path): "\(path) already exists (use --force to replace it)"
            case let .io(path, reason): "\(path): \(reason)"
            case let .malformed(path, reason): "\(path): not a CURVE certificate: \(reason)"
            case let .tooOpen(path, mode):
                "\(path): permissions \(String(mode & 0o777, radix: 8)) are too open; a secret key must be readable by its owner only (chmod 600)"
            }
        }
    }

    /// Writes `NAME.key` and `NAME.key_secret` into `directory` (created 0700 if missing).
    /// Returns the two paths.
    @discardableResult
    public static func write(_ keys: CurveKeyPair, name: String, directory: String, overwrite: Bool = false)
        throws(Failure) -> (publicPath: String, secretPath: String)
    {
        do {
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true,
                                                    attributes: [.posixPermissions: 0o700])
        } catch {
            throw .io(path: directory, reason: "cannot create the directory: \(error.localizedDescription)")
        }
        let publicPath = (directory as NSString).appendingPathComponent("\(name).key")
        let secretPath = (directory as NSString).appendingPathComponent("\(name).key_secret")
        if !overwrite {
            for path in [publicPath, secretPath] where FileManager.default.fileExists(atPath: path) { throw .exists(path: path) }
        }
        let stamp = ISO8601DateFormatter().string(from: Date())
        let publicText = """
            #   ****  Generated on \(stamp) by Herald  ****
            #   ZeroMQ CURVE Public Certificate
            #   Exchange securely, or use a secure mechanism to verify the contents
            #   of this file after exchange.

            metadata
                name = "\(name)"
            curve
                public-key = "\(keys.publicKey)"

            """
        let secretText = """
            #   ****  Generated on \(stamp) by Herald  ****
            #   ZeroMQ CURVE **Secret** Certificate
            #   DO NOT PROVIDE THIS FILE TO OTHER USERS nor change its permissions.

            metadata
                name = "\(name)"
            curve
                public-key = "\(keys.publicKey)"
                secret-key = "\(keys.secretKey)"

            """
        try writeAtomically(secretText, to: secretPath, mode: 0o600)
        try writeAtomically(publicText, to: publicPath, mode: 0o644)
        return (publicPath, secretPath)
    }

    /// The key pair in a `.key_secret` file, after checking its permissions.
    public static func readSecret(path: String) throws(Failure) -> CurveKeyPair {
        var info = stat()
        guard stat(path, &info) == 0 else { throw .io(path: path, reason: String(cString: strerror(errno))) }
        guard info.st_mode & 0o077 == 0 else { throw .tooOpen(path: path, mode: UInt32(info.st_mode)) }
        let fields = try parse(path: path)
        guard let publicKey = fields["public-key"] else { throw .malformed(path: path, reason: "no public-key") }
        guard let secretKey = fields["secret-key"] else { throw .malformed(path: path, reason: "no secret-key (is this the public .key file?)") }
        let keys: CurveKeyPair
        do { keys = try CurveKeyPair(secretKey: secretKey) } catch {
            throw .malformed(path: path, reason: "secret-key is not 40 Z85 characters")
        }
        guard keys.publicKey == publicKey else {
            throw .malformed(path: path, reason: "public-key does not belong to secret-key")
        }
        return keys
    }

    /// The public key in a `.key` (or `.key_secret`) file.
    public static func readPublic(path: String) throws(Failure) -> String {
        let fields = try parse(path: path)
        guard let key = fields["public-key"] else { throw .malformed(path: path, reason: "no public-key") }
        guard CurveKeyPair.isZ85Key(key) else { throw .malformed(path: path, reason: "public-key is not 40 Z85 characters") }
        return key
    }

    /// Every public key in `directory`'s `*.key` files, by file name without the extension.
    public static func readPublicKeys(directory: String) throws(Failure) -> [String: String] {
        let names: [String]
        do { names = try FileManager.default.contentsOfDirectory(atPath: directory) } catch {
            throw .io(path: directory, reason: "cannot list the directory")
        }
        var keys: [String: String] = [:]
        for file in names.sorted() where file.hasSuffix(".key") {
            keys[String(file.dropLast(4))] = try readPublic(path: (directory as NSString).appendingPathComponent(file))
        }
        return keys
    }

    private static func parse(path: String) throws(Failure) -> [String: String] {
        let text: String
        do { text = try String(contentsOfFile: path, encoding: .utf8) } catch {
            throw .io(path: path, reason: FileManager.default.fileExists(atPath: path) ? "cannot read it" : "no such file")
        }
        var fields: [String: String] = [:]
        for line in text.split(separator: "\n") {
            let trimmed = line.trimmingCharacters(in: .whitespaces)
            guard !trimmed.hasPrefix("#"), let equals = trimmed.firstIndex(of: "=") else { continue }
            let key = trimmed[..<equals].trimmingCharacters(in: .whitespaces)
            var value = trimmed[trimmed.index(after: equals)...].trimmingCharacters(in: .whitespaces)
            if value.count >= 2, value.hasPrefix("\""), value.hasSuffix("\"") { value = String(value.dropFirst().dropLast()) }
            fields[key] = value
        }
        return fields
    }

    /// Writes through a temporary file created with `mode`, then renames: no half-written key
    /// file, and no moment in which a secret is readable by others.
    private static func writeAtomically(_ text: String, to path: String, mode: mode_t) throws(Failure) {
        let temporary = path + ".tmp-\(getpid())"
        let fd = open(temporary, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode)
        guard fd >= 0 else { throw .io(path: temporary, reason: String(cString: strerror(errno))) }
        let bytes = Array(text.utf8)
        let written = bytes.withUnsafeBytes { Glibc.write(fd, $0.baseAddress, $0.count) }
        let synced = fsync(fd) == 0
        close(fd)
        guard written == bytes.count, synced, fchmodat(AT_FDCWD, temporary, mode, 0) == 0,
              rename(temporary, path) == 0 else {
            let reason = String(cString: strerror(errno))
            unlink(temporary)
            throw .io(path: path, reason: reason)
        }
    }
}
