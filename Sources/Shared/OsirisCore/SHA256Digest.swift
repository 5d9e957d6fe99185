import CCrypto

/// SHA-256 fingerprints in the form every Osiris format uses: `sha256:` and 64 lowercase hex digits.
public enum Fingerprint {
    /// The fingerprint of `bytes`.
    public static func sha256(_ bytes: [UInt8]) -> String {
        "sha256:" + sha256Hex(bytes)
    }

    /// The fingerprint of the canonical JSON of `value`.
    public static func sha256(canonicalJSONOf value: JSONValue) -> String {
        var bytes: [UInt8] = []
        JSONWriter.append(value, to: &bytes)
        return sha256(bytes)
    }

    /// The bare lowercase hex digest of `bytes`, without the `sha256:` prefix.
    public static func sha256Hex(_ bytes: [UInt8]) -> String {
        var hasher = Hasher()
        bytes.withUnsafeBytes { hasher.update($0) }
        return hasher.hexDigest()
    }

    private static let digits = Array("0123456789abcdef".utf8)

    /// An incremental SHA-256, for data that arrives in pieces.
    public struct Hasher {
        private var context = SHA256_CTX()

        /// A hasher with nothing hashed yet.
        public init() { _ = LibCrypto.sha256.initialize(&context) }

        /// Adds bytes.
        public mutating func update(_ bytes: UnsafeRawBufferPointer) {
            guard let base = bytes.baseAddress, !bytes.isEmpty else { return }
            _ = LibCrypto.sha256.update(&context, base, bytes.count)
        }

        /// The fingerprint (`sha256:…`) of everything added.
        public func finalize() -> String { "sha256:" + hexDigest() }

        fileprivate func hexDigest() -> String {
            var finished = context
            var digest = [UInt8](repeating: 0, count: Int(SHA256_DIGEST_LENGTH))
            _ = LibCrypto.sha256.finish(&digest, &finished)
            var output: [UInt8] = []
            output.reserveCapacity(64)
            for byte in digest {
                output.append(digits[Int(byte >> 4)])
                output.append(digits[Int(byte & 0x0f)])
            }
            return String(decoding: output, as: UTF8.self)
        }
    }

    /// Whether `text` has the documented form: `sha256:` and 64 lowercase hex digits.
    public static func isWellFormed(_ text: String) -> Bool {
        guard text.hasPrefix("sha256:") else { return false }
        let digest = text.utf8.dropFirst(7)
        return digest.count == 64 && digest.allSatisfy { ($0 >= 0x30 && $0 <= 0x39) || ($0 >= 0x61 && $0 <= 0x66) }
    }
}

/// The system's libcrypto, looked up at the first digest (see the CCrypto shim for why it is not linked).
private enum LibCrypto {
    /// The SHA-256 functions; the system's libcrypto ships with libpq and libcurl, which every Osiris
    /// installation has, so failing to find it is an installation fault rather than bad input.
    static let sha256: SHA256Functions = {
        var functions = osiris_sha256_functions()
        guard osiris_sha256_load(&functions) != 0, let initialize = functions.initialize, let update = functions.update,
              let finish = functions.finish
        else {
            let reason = dlerror().map { String(cString: $0) } ?? "no SHA256 functions"
            preconditionFailure("SHA-256 needs the system's \(String(cString: osiris_libcrypto_soname())) (Debian package libssl3): \(reason)")
        }
        return SHA256Functions(initialize: initialize, update: update, finish: finish)
    }()
}

/// libcrypto's SHA-256 entry points.
private struct SHA256Functions: @unchecked Sendable {
    // unchecked: immutable pointers to thread-safe C functions, set once before the value is published.
    let initialize: osiris_sha256_initialize_function
    let update: osiris_sha256_update_function
    let finish: osiris_sha256_finish_function
}
