import OsirisCore
import OsirisYAML
import Testing

@Suite("Large inputs")
struct LargeInputTests {
    /// A generated OML-like document of roughly `bytes` bytes.
    static func generated(bytes target: Int) -> [UInt8] {
        var text: [UInt8] = Array("oml_version: \"0.1.0\"\nname: big\nsteps:\n".utf8)
        text.reserveCapacity(target + 256)
        var index = 0
        while text.count < target {
            text += Array("""
              - id: step-\(index)
                component: postgres.extractor
                mode: read
                needs: [a, b, "c"]
                config: {query: 'SELECT * FROM t\(index)', limit: \(index), ratio: 0.5, on: true}

            """.utf8)
            index += 1
        }
        return text
    }

    @Test func tenMegabyteFileParses() throws {
        let bytes = Self.generated(bytes: 10 * 1024 * 1024)
        let document = try YAMLParser.parse(bytes)
        let steps = try #require(document.root?["steps"]?.sequence)
        #expect(steps.count > 50_000)
        let last = try #require(steps.last)
        #expect(last["id"]?.string == "step-\(steps.count - 1)")
        #expect(last.at("config", "limit")?.scalar?.value == .int(steps.count - 1))
        #expect(document.duplicateKeys.isEmpty)
        // Every step is six lines long and starts on line 4.
        #expect(last.range.start == at(4 + 5 * (steps.count - 1), 5))
    }

    @Test func longSingleLineAndLongScalar() throws {
        let long = String(repeating: "x", count: 1_000_000)
        #expect(try root("k: \(long)\n")["k"]?.range == span(1, 4, 1, 1_000_004))
        let items = Array(repeating: "1", count: 100_000).joined(separator: ",")
        #expect(try root("[\(items)]").sequence?.count == 100_000)
    }
}
