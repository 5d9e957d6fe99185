import OsirisCore
import OsirisYAML
import Testing

@Suite("Syntax errors and hostile input")
struct ErrorTests {
    struct Case: CustomTestStringConvertible, Sendable {
        let input: String
        let message: String
        let line: Int
        let column: Int
        var testDescription: String { input.debugDescription }
    }

    @Test(arguments: [
        Case(input: "name: broken: really\n", message: "mapping values are not allowed in this context", line: 1, column: 13),
        Case(input: "a: [1, 2\n", message: "did not find expected ',' or ']' (while parsing a flow sequence)", line: 1, column: 9),
        Case(input: "k: \"abc\n", message: "found unexpected end of stream (while scanning a quoted scalar)", line: 1, column: 8),
        Case(input: "a:\n  - b\n  c: 1\n", message: "did not find expected '-' indicator (while parsing a block collection)", line: 3, column: 3),
        Case(input: "a:\n\tb: 1\n", message: "found character that cannot start any token (while scanning for the next token)", line: 2, column: 1),
        Case(input: "k: @x\n", message: "found character that cannot start any token (while scanning for the next token)", line: 1, column: 4),
        Case(input: "a: 1\r\nb: 2\r\n c: 3\r\n", message: "mapping values are not allowed in this context", line: 3, column: 3),
        Case(input: "a: *missing\n", message: "undefined alias \"missing\"", line: 1, column: 4),
        Case(input: "a: 1\n---\nb: 2\n", message: "expected a single YAML document", line: 2, column: 1),
        Case(input: "a: 1\n...\nb: 2\n", message: "did not find expected <document start>", line: 3, column: 1),
        Case(input: "a: 1\n---\n", message: "expected a single YAML document", line: 2, column: 1),
        Case(input: "a: 1\n...\n--- b\n", message: "expected a single YAML document", line: 3, column: 1),
        Case(input: "m:\n  <<: 1\n", message: "the value of a merge key (<<) must be a mapping or a sequence of mappings", line: 2, column: 7),
    ])
    func syntaxErrors(_ c: Case) throws {
        let error = try #require(syntaxError(c.input))
        #expect(error.message == c.message)
        #expect(error.range.start == at(c.line, c.column))
    }

    @Test func theEndOfInputIsTheLastLineWithContentAndTheOpenerIsNamed() throws {
        let error = try #require(syntaxError("a: 1\nb: [\n  x,\n  y\n  # end\n\n"))
        #expect(error.range.start == at(5, 8))
        #expect(error.context?.what == "a flow sequence")
        #expect(error.context?.range.start == at(2, 4))
        #expect(!error.isBinary)
    }

    @Test func onlyNonTextIsBinary() throws {
        #expect(try #require(syntaxError("a: \u{1}\n")).isBinary == false)
        #expect(try #require(syntaxError("a: \u{0}\n")).isBinary)
        var bytes = Array("a: b\n".utf8)
        bytes.append(0xFF)
        #expect(throws: YAMLSyntaxError.self) { try YAMLParser.parse(bytes) }
        do {
            _ = try YAMLParser.parse(bytes)
        } catch {
            #expect(error.isBinary)
            #expect(error.context == nil)
        }
    }

    @Test func errorRangeOfSecondDocumentCoversMarker() throws {
        let error = try #require(syntaxError("a: 1\n---\nb: 2\n"))
        #expect(error.range == span(2, 1, 2, 4))
        #expect(error.description == "2:1: expected a single YAML document")
    }

    @Test func singleDocumentMarkersAreFine() throws {
        #expect(try root("---\na: 1\n...\n")["a"]?.range == span(2, 4, 2, 5))
        #expect(try root("a: 1\n...\n")["a"]?.scalar?.value == .int(1))
        #expect(try root("%YAML 1.2\n---\na: 1\n")["a"] != nil)
    }

    struct ByteCase: CustomTestStringConvertible, Sendable {
        let bytes: [UInt8]
        let message: String
        let line: Int
        let column: Int
        var testDescription: String { "\(message) at \(line):\(column)" }
    }

    @Test(arguments: [
        ByteCase(bytes: Array("a: 1\nb: x".utf8) + [0xFF] + Array("\n".utf8),
                 message: "invalid UTF-8 (byte 0xFF cannot start a character)", line: 2, column: 5),
        ByteCase(bytes: Array("é: ü".utf8) + [0xC3, 0x28],
                 message: "invalid UTF-8 (byte 0x28 cannot continue a character)", line: 1, column: 6),
        ByteCase(bytes: Array("a: 1\r\nbb: ".utf8) + [0xE2, 0x82],
                 message: "invalid UTF-8 (incomplete character at the end of the input)", line: 2, column: 5),
        ByteCase(bytes: Array("a: ".utf8) + [0xC0, 0xAF],
                 message: "invalid UTF-8 (overlong encoding)", line: 1, column: 4),
        ByteCase(bytes: Array("a: ".utf8) + [0xED, 0xA0, 0x80],
                 message: "invalid UTF-8 (encodes the invalid code point U+D800)", line: 1, column: 4),
        ByteCase(bytes: [0xEF, 0xBB, 0xBF] + Array("a: x".utf8) + [0x80],
                 message: "invalid UTF-8 (byte 0x80 cannot start a character)", line: 1, column: 5),
        ByteCase(bytes: Array("a: 1\nb: ".utf8) + [0x00] + Array("x\n".utf8),
                 message: "control characters are not allowed (found U+0000)", line: 2, column: 4),
        ByteCase(bytes: Array("a: 1\r\n\r\nb: \"x".utf8) + [0x07] + Array("\"\n".utf8),
                 message: "control characters are not allowed (found U+0007)", line: 3, column: 6),
        ByteCase(bytes: [0xFF, 0xFE, 0x61, 0x00],
                 message: "invalid UTF-8 (the file starts with a UTF-16 byte order mark)", line: 1, column: 1),
    ])
    func readerErrors(_ c: ByteCase) throws {
        let error = try #require(syntaxError(c.bytes))
        #expect(error.message == c.message)
        #expect(error.range.start == at(c.line, c.column))
    }

    @Test(arguments: ["", "\n", "   \n\n", "# only a comment\n", "# one\n# two", "---\n", "---\n# c\n...\n", "\u{FEFF}"])
    func emptyDocuments(_ text: String) throws {
        let document = try YAMLParser.parse(text)
        #expect(document.root == nil)
        #expect(document.duplicateKeys.isEmpty)
        #expect(try YAMLParser.parse(Array(text.utf8)).root == nil)
    }

    @Test func explicitEmptyStringIsNotEmpty() throws {
        #expect(try root("\"\"\n").scalar?.value == .string(""))
        #expect(try root("~\n").scalar?.value == .null)
    }

    @Test func depthLimitAllows256Levels() throws {
        let text = String(repeating: "[", count: 256) + String(repeating: "]", count: 256)
        var node = try root(text)
        var depth = 1
        while let items = node.sequence, let first = items.first {
            node = first
            depth += 1
        }
        #expect(depth == 256)
    }

    @Test(arguments: [257, 300, 100_000])
    func deepFlowNestingIsRejected(_ depth: Int) throws {
        let text = String(repeating: "[", count: depth) + String(repeating: "]", count: depth)
        let error = try #require(syntaxError(text))
        #expect(error.message == "nesting deeper than 256 levels")
        #expect(error.range.start == at(1, 257))
    }

    @Test func deepUnclosedNestingIsRejected() throws {
        let error = try #require(syntaxError(String(repeating: "[", count: 100_000)))
        #expect(error.message == "nesting deeper than 256 levels")
        let mappings = try #require(syntaxError(String(repeating: "{a: ", count: 100_000)))
        #expect(mappings.message == "nesting deeper than 256 levels")
    }

    @Test(arguments: [
        String(repeating: "- ", count: 100_000),
        String(repeating: "? ", count: 100_000),
        String(repeating: "&x [", count: 100_000),
        String(repeating: "{[", count: 50_000),
        String(repeating: "[a, ", count: 100_000),
    ])
    func hostileNestingFailsCleanly(_ text: String) throws {
        let error = try #require(syntaxError(text))
        #expect(error.message == "nesting deeper than 256 levels")
    }

    @Test func deepBlockNestingIsRejected() throws {
        var text = ""
        for level in 0..<300 {
            text += String(repeating: " ", count: level) + "k:\n"
        }
        let error = try #require(syntaxError(text))
        #expect(error.message == "nesting deeper than 256 levels")
        #expect(error.range.start == at(257, 257))
    }

    @Test func aliasesCannotExceedTheDepthLimit() throws {
        let inner = String(repeating: "[", count: 200) + String(repeating: "]", count: 200)
        let outer = String(repeating: "[", count: 100) + "*a" + String(repeating: "]", count: 100)
        let error = try #require(syntaxError("a: &a \(inner)\nb: \(outer)\n"))
        #expect(error.message == "nesting deeper than 256 levels")
        #expect(error.range == span(2, 104, 2, 106))
    }

    @Test func garbageNeverCrashes() {
        var generator = SplitMix64(seed: 0x05_1215)
        let alphabet = Array("[]{}:-,?!&*|>'\"#%@` \n\r\t\0abc123.~<".utf8)
        for round in 0..<2_000 {
            let length = Int(generator.next() % 200)
            var bytes: [UInt8] = []
            for _ in 0..<length {
                let random = generator.next()
                bytes.append(round % 2 == 0 ? UInt8(truncatingIfNeeded: random) : alphabet[Int(random % UInt64(alphabet.count))])
            }
            do {
                _ = try YAMLParser.parse(bytes)
            } catch {
                #expect(!error.message.isEmpty)
                #expect(error.range.start.line >= 1 && error.range.start.column >= 1)
            }
        }
    }
}

