import OsirisCore
import Testing

@Suite struct RendererTests {
    let source = SourceText("a: 1\n\tneeds: [extrct]\nlast\n")
    let diagnostic = Diagnostic(
        code: "OML104", severity: .error, message: "needs names unknown step 'extrct'", file: "p.oml",
        range: SourceRange(start: SourcePosition(line: 2, column: 10), end: SourcePosition(line: 2, column: 16)),
        notes: [Diagnostic.Note("defined here", range: SourceRange(start: SourcePosition(line: 1, column: 1)))],
        help: "did you mean 'extract'?")

    @Test func textHasLocationSourceCaretNoteAndHelp() {
        var renderer = TextRenderer(useColor: false)
        let text = String(decoding: renderer.render([diagnostic], source: source), as: UTF8.self)
        #expect(text == """
            p.oml:2:10: error: needs names unknown step 'extrct' [OML104]
              2 | \tneeds: [extrct]
                | \t        ^~~~~~
                = note: p.oml:1:1: defined here
                = help: did you mean 'extract'?

            """)
        let summary = String(decoding: renderer.finish(summary: counted([diagnostic])), as: UTF8.self)
        #expect(summary == "1 error in 1 file\n")
    }

    @Test func colourOnlyWhenAsked() {
        var plain = TextRenderer(useColor: false)
        var coloured = TextRenderer(useColor: true)
        #expect(!plain.render([diagnostic], source: source).contains(0x1B))
        #expect(coloured.render([diagnostic], source: source).contains(0x1B))
    }

    @Test func jsonLineHasEveryField() throws {
        var renderer = JSONLinesRenderer()
        let line = String(decoding: renderer.render([diagnostic], source: nil), as: UTF8.self)
        let value = try JSONParser.parse(line)
        #expect(value["code"] == "OML104")
        #expect(value["line"] == 2)
        #expect(value["column"] == 10)
        #expect(value["end_line"] == 2)
        #expect(value["end_column"] == 16)
        #expect(value["help"] == "did you mean 'extract'?")
        #expect(value["severity"] == "error")
        #expect(value["file"] == "p.oml")
        #expect(line.hasSuffix("}\n"))
    }

    @Test func githubAnnotationsEscapeData() {
        var renderer = GitHubAnnotationRenderer()
        var tricky = diagnostic
        tricky.file = "a,b:c.oml"
        tricky.message = "100% bad"
        let text = String(decoding: renderer.render([tricky], source: nil), as: UTF8.self)
        #expect(text == "::error file=a%2Cb%3Ac.oml,line=2,col=10,endLine=2,endColumn=16,title=OML104::100%25 bad%0Ahelp: did you mean 'extract'?\n")
    }

    @Test func sarifLogHasRulesResultsAndRelatedLocations() throws {
        let rule = RuleDescriptor(code: "OML104", name: "UnknownStepDependency", defaultSeverity: .error, summary: "s", documentation: "d")
        var renderer = SARIFRenderer(toolName: "oml-lint", toolVersion: "0.1.0", rules: [rule])
        #expect(renderer.render([diagnostic], source: nil).isEmpty)
        let log = try JSONParser.parse(renderer.finish(summary: counted([diagnostic])))
        #expect(log["version"] == "2.1.0")
        let run = try #require(log["runs"]?.arrayValue?.first)
        #expect(run["tool"]?["driver"]?["rules"]?.arrayValue?.first?["id"] == "OML104")
        let result = try #require(run["results"]?.arrayValue?.first)
        #expect(result["ruleId"] == "OML104")
        #expect(result["ruleIndex"] == 0)
        #expect(result["level"] == "error")
        #expect(result["locations"]?.arrayValue?.first?["physicalLocation"]?["region"]?["startColumn"] == 10)
        #expect(result["relatedLocations"]?.arrayValue?.count == 1)
    }

    @Test func summaryWordsPlurals() {
        var renderer = TextRenderer(useColor: false)
        var summary = DiagnosticSummary()
        summary.files = 3
        summary.errors = 2
        summary.warnings = 1
        #expect(String(decoding: renderer.finish(summary: summary), as: UTF8.self) == "2 errors and 1 warning in 3 files\n")
        #expect(renderer.finish(summary: DiagnosticSummary()).isEmpty)
    }

    private func counted(_ diagnostics: [Diagnostic]) -> DiagnosticSummary {
        var summary = DiagnosticSummary()
        summary.add(fileDiagnostics: diagnostics)
        return summary
    }
}

@Suite struct SupportTests {
    @Test(arguments: [("extrct", "extract"), ("tabel", "table"), ("postgres.extracter", "postgres.extractor"), ("zzz", nil)])
    func closestMatchFindsTypos(word: String, expected: String?) {
        #expect(closestMatch(to: word, among: ["extract", "table", "postgres.extractor", "write"]) == expected)
    }

    @Test func sourceLinesHandleAllLineEndings() {
        let source = SourceText("a\r\nb\rc\nd")
        #expect((1...4).map { source.line($0) } == ["a", "b", "c", "d"])
        #expect(source.line(5) == nil)
        #expect(SourceText("x\n").lineCount == 1)
    }

    @Test func exitStatusesFollowSysexits() {
        #expect(ExitStatus.usage.rawValue == 64)
        #expect(ExitStatus.noInput.rawValue == 66)
        #expect(ExitStatus.configuration.rawValue == 78)
    }
}
