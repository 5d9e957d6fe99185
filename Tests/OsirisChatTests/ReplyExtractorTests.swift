import Testing

@testable import OsirisChat

/// Replies as small models write them, and what the extractor makes of each.
@Suite struct ReplyExtractorTests {
    let document = "oml_version: \"0.1.0\"\nname: x\nsteps:\n  - id: a\n    component: sqlite.extractor\n    mode: read\n    config: {table: orders}\n"

    @Test func aFenceWithProseAround() {
        #expect(ReplyExtractor.extract("Sure! Here you go:\n```yaml\n\(document)```\nLet me know.") == .draft(document))
    }

    @Test func bareYAMLWithProseAfter() {
        #expect(ReplyExtractor.extract("\(document)\nThis pipeline reads orders.") == .draft(document))
    }

    @Test func severalFencesTakeTheOneThatParsesAsOML() {
        let reply = "Run it with:\n```bash\noml-compile p.oml\n```\nThe pipeline:\n~~~yml\n\(document)~~~\n"
        #expect(ReplyExtractor.extract(reply) == .draft(document))
    }

    @Test func tabsInIndentationBecomeSpaces() {
        let tabbed = "oml_version: \"0.1.0\"\nname: x\nsteps:\n\t- id: a\n\t  component: sqlite.extractor\n\t  mode: read\n\t  config: {table: orders}\n"
        #expect(ReplyExtractor.extract("```\n\(tabbed)```") == .draft(document))
    }

    @Test func aMissingVersionIsAdded() {
        let withoutVersion = String(document.dropFirst("oml_version: \"0.1.0\"\n".count))
        #expect(ReplyExtractor.extract("```yaml\n\(withoutVersion)```") == .draft(document))
    }

    @Test func legacyKeysAreKeptForLintToExplain() {
        let legacy = "version: 1\nname: x\ntasks:\n  - id: a\n"
        #expect(ReplyExtractor.extract("```yaml\n\(legacy)```") == .draft(legacy))
    }

    @Test func anUnclosedFenceStillCounts() {
        #expect(ReplyExtractor.extract("```yaml\n\(document)") == .draft(document))
    }

    @Test func questions() {
        #expect(ReplyExtractor.extract("QUESTION: Which table do you mean?") == .question("Which table do you mean?"))
        #expect(ReplyExtractor.extract("Do you want CSV or JSON lines?") == .question("Do you want CSV or JSON lines?"))
    }

    @Test func proseAloneIsNothing() {
        #expect(ReplyExtractor.extract("I cannot help with that.") == .nothing)
        #expect(ReplyExtractor.extract("```yaml\nkey: [unclosed\n```") == .nothing)
    }

    /// llama.cpp's JSON grammars let a string hold a raw line break (JSON forbids it): the draft is
    /// still read, with the break as an escape.
    @Test func aRawLineBreakInsideAJSONStringIsRead() throws {
        let reply = "{\"name\": \"copy\", \"oml_version\": \"0.1.0\", \"description\": \"two\nlines\", \"steps\": []}"
        guard case .draft(let text) = ReplyExtractor.extract(reply) else { Issue.record("no draft"); return }
        #expect(text.contains("description: \"two\\nlines\""))
        #expect(ReplyExtractor.escapingControlCharacters(Array("{\"a\": \"x\ty\"}\n".utf8)) == Array("{\"a\": \"x\\u0009y\"}\n".utf8))
        #expect(ReplyExtractor.escapingControlCharacters(Array("[\"\\\"\n\"]".utf8)) == Array("[\"\\\"\\u000a\"]".utf8))
    }
}
