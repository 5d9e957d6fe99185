import OsirisCore
import Testing

/// SHA-256 against the FIPS 180-2 test vectors, whole and in pieces.
@Suite struct FingerprintTests {
    static let empty = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
    static let abc = "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
    static let millionA = "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0"
    static let twoBlocks = "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1"

    @Test func knownVectors() {
        #expect(Fingerprint.sha256Hex([]) == Self.empty)
        #expect(Fingerprint.sha256Hex(Array("abc".utf8)) == Self.abc)
        #expect(Fingerprint.sha256Hex(Array("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq".utf8)) == Self.twoBlocks)
        #expect(Fingerprint.sha256Hex([UInt8](repeating: UInt8(ascii: "a"), count: 1_000_000)) == Self.millionA)
    }

    @Test func prefixedForm() {
        #expect(Fingerprint.sha256(Array("abc".utf8)) == "sha256:" + Self.abc)
        #expect(Fingerprint.isWellFormed(Fingerprint.sha256([])))
        #expect(Fingerprint.sha256(canonicalJSONOf: .string("abc")) == Fingerprint.sha256(Array(#""abc""#.utf8)))
    }

    /// Pieces of every size up to two blocks give the digest of the whole, and finalize leaves the hasher usable.
    @Test(arguments: [1, 3, 63, 64, 65, 1000, 4096])
    func incremental(pieceSize: Int) {
        let bytes = [UInt8](repeating: UInt8(ascii: "a"), count: 1_000_000)
        var hasher = Fingerprint.Hasher()
        var offset = 0
        while offset < bytes.count {
            let end = min(offset + pieceSize, bytes.count)
            bytes[offset..<end].withUnsafeBytes { hasher.update($0) }
            offset = end
        }
        #expect(hasher.finalize() == "sha256:" + Self.millionA)
        #expect(hasher.finalize() == "sha256:" + Self.millionA)
        var empty = Fingerprint.Hasher()
        empty.update(UnsafeRawBufferPointer(start: nil, count: 0))
        #expect(empty.finalize() == "sha256:" + Self.empty)
    }
}
