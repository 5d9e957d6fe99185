import Crypto

/// SHA-256 fingerprints in the form every Osiris format uses: `sha256:` and 64 lowercase hex digits.
public enum Fingerprint {
    /// The fingerprint of `bytes`.
    public static func sha256(_ bytes: [UInt8]) -> String {
        "sha256:" + hex(SHA256.hash(data: bytes))
    }

    /// The fingerprint of the canonical JSON of `value`.
    public static func sha256(canonicalJSONOf value: JSONValue) -> String {
        var bytes: [UInt8] = []
        JSONWriter.append(value, to: &bytes)
        return sha256(bytes)
    }

    /// The bare lowercase hex digest of `bytes`, without the `sha256:` prefix.
    public static func sha256Hex(_ bytes: [UInt8]) -> String { hex(SHA256.hash(data: bytes)) }

    private static let digits = Array("0123456789abcdef".utf8)

    fileprivate static func hex(_ digest: SHA256.Digest) -> String {
        var output: [UInt8] = []
        output.reserveCapacity(64)
        for byte in digest {
            output.append(digits[Int(byte >> 4)])
            output.append(digits[Int(byte & 0x0f)])
        }
        return String(decoding: output, as: UTF8.self)
    }

    /// An incremental SHA-256, for data that arrives in pieces.
    public struct Hasher {
        private var state = SHA256()

        /// A hasher with nothing hashed yet.
        public init() {}

        /// Adds bytes.
        public mutating func update(_ bytes: UnsafeRawBufferPointer) { state.update(bufferPointer: bytes) }

        /// The fingerprint (`sha256:…`) of everything added.
        public func finalize() -> String { "sha256:" + Fingerprint.hex(state.finalize()) }
    }

    /// Whether `text` has the documented form: `sha256:` and 64 lowercase hex digits.
    public static func isWellFormed(_ text: String) -> Bool {
        guard text.hasPrefix("sha256:") else { return false }
        let digest = text.utf8.dropFirst(7)
        return digest.count == 64 && digest.allSatisfy { ($0 >= 0x30 && $0 <= 0x39) || ($0 >= 0x61 && $0 <= 0x66) }
    }
}
