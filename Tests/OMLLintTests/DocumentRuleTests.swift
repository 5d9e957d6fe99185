import OMLLint
import Testing

@Suite struct DocumentRuleTests {
    @Test func yamlSyntaxErrorAtTheParserPosition() {
        expectFindings("""
            oml_version: "0.1.0"
            name: broken1️⃣: really
            steps: []
            """, [("OML001", "1️⃣")])
    }

    @Test func unclosedQuoteIsASyntaxError() {
        let findings = lint("oml_version: \"0.1.0\nname: x\n")
        #expect(findings.map(\.code) == ["OML001"])
    }

    @Test func invalidUTF8IsOML001WithPosition() {
        var bytes = Array("oml_version: \"0.1.0\"\nname: ab".utf8)
        bytes.append(0xFF)
        bytes += Array("\nsteps: []\n".utf8)
        let result = Linter().lint(bytes, file: "bad.oml")
        #expect(result.diagnostics.map(\.code) == ["OML001"])
        #expect(result.diagnostics.first?.range.start.line == 2)
        #expect(result.diagnostics.first?.range.start.column == 9)
    }

    @Test func binaryInputIsOML001WithoutSourceToQuote() {
        let bytes: [UInt8] = [0x7F, 0x45, 0x4C, 0x46, 0x02, 0x01, 0x01, 0x00, 0x00, 0x00, 0xFE, 0xFF]
        let result = Linter().lint(bytes, file: "a.out")
        #expect(result.diagnostics.map(\.code) == ["OML001"])
        #expect(result.source == nil)
        #expect(Linter().lint(Array("oml_version: \"0.1.0\"\nname: a: b\n".utf8), file: "t.oml").source != nil)
    }

    @Test func anUnclosedBracketPointsAtTheEndOfTheLastLineAndTheBracket() {
        let text = "oml_version: \"0.1.0\"\nname: x\nsteps: [\n  {id: a}\n  # end\n"
        let result = Linter().lint(Array(text.utf8), file: "t.oml")
        let finding = result.diagnostics.first
        #expect(result.diagnostics.map { "\($0.code)@\($0.range.start)" } == ["OML001@5:8"])
        #expect(finding?.notes.map { "\($0.message)@\($0.range.map { "\($0.start)" } ?? "")" } == ["a flow sequence starts here@3:8"])
        #expect(result.source?.line(5) == "  # end")
    }

    @Test func tabIndentationIsExplained() {
        for text in ["oml_version: \"0.1.0\"\nname: x\nsteps:\n\t- id: a\n",
                     "oml_version: \"0.1.0\"\nname: x\nsteps:\n  - id: a\n\t  component: b\n"] {
            let findings = lint(text)
            #expect(findings.map(\.code) == ["OML001"])
            #expect(findings.first?.help == "YAML does not allow tabs for indentation; use spaces")
        }
        #expect(lint("oml_version: \"0.1.0\"\nname: broken: really\n").first?.help == "quote the value if it contains ': '")
    }

    @Test func duplicateKeyAtSecondOccurrenceWithNote() {
        let text = MarkedText("""
            oml_version: "0.1.0"
            1️⃣name: a
            2️⃣name: b
            steps: []
            """)
        let findings = Linter().lint(Array(text.text.utf8), file: "t.oml").diagnostics
        #expect(findings.map(\.code) == ["OML002"])
        #expect(findings.first?.range.start == text.markers["2️⃣"])
        #expect(findings.first?.notes.first?.range?.start == text.markers["1️⃣"])
    }

    @Test func nothingElseAfterDuplicateKey() {
        // The empty steps list would be OML020, but OML002 ends the examination.
        expectFindings("""
            oml_version: "0.1.0"
            name: a
            1️⃣name: b
            steps: []
            """, [("OML002", "1️⃣")])
    }

    @Test(arguments: ["", "# only a comment\n", "---\n"])
    func emptyDocumentIsOML003AtStart(text: String) {
        let findings = lint(text)
        #expect(findings.map(\.code) == ["OML003"])
        #expect(findings.first?.range.start.line == 1)
        #expect(findings.first?.range.start.column == 1)
    }

    @Test func scalarDocumentIsOML003() {
        expectFindings("1️⃣just text\n", [("OML003", "1️⃣")])
    }

    @Test func missingTopLevelKeysAtFirstKey() {
        expectFindings("""
            # comment
            1️⃣description: nothing
            metadata: {}
            """, [("OML010", "1️⃣"), ("OML010", "1️⃣"), ("OML010", "1️⃣")])
    }

    @Test func legacyKeysAreErrorsAtTheKey() {
        expectFindings("""
            oml_version: "0.1.0"
            name: legacy
            1️⃣tasks: []
            2️⃣outputs: []
            steps:
              - id: e
                component: postgres.extractor
                mode: read
                config: {table: orders}
            """, [("OML011", "1️⃣"), ("OML011", "2️⃣")])
    }

    @Test func unknownTopLevelKeyIsAWarningWithSuggestion() {
        let findings = lint("""
            oml_version: "0.1.0"
            name: x
            descripton: typo
            steps:
              - {id: e, component: postgres.extractor, mode: read, config: {table: orders}}
            """)
        #expect(findings.map(\.code) == ["OML012"])
        #expect(findings.first?.severity == .warning)
        #expect(findings.first?.help == "did you mean 'description'?")
    }

    @Test func omlVersionNumberIsAnError() {
        expectFindings("""
            oml_version: 1️⃣0.1
            name: x
            steps: [{id: e, component: postgres.extractor, mode: read, config: {table: orders}}]
            """, [("OML013", "1️⃣")])
        #expect(lint("oml_version: 0.1\nname: x\nsteps: [{id: e, component: postgres.extractor, mode: read, config: {table: orders}}]\n")
            .first?.severity == .error)
    }

    @Test func otherOMLVersionStringIsAWarning() {
        let findings = lint("""
            oml_version: "0.2.0"
            name: x
            steps: [{id: e, component: postgres.extractor, mode: read, config: {table: orders}}]
            """)
        #expect(findings.map(\.code) == ["OML013"])
        #expect(findings.first?.severity == .warning)
    }

    @Test func blankNullAndNonStringNames() {
        let steps = "steps: [{id: e, component: postgres.extractor, mode: read, config: {table: orders}}]\n"
        expectFindings("oml_version: \"0.1.0\"\nname: 1️⃣\"  \"\n" + steps, [("OML014", "1️⃣")])
        expectFindings("oml_version: \"0.1.0\"\n1️⃣name:\n" + steps, [("OML014", "1️⃣")])
        expectFindings("oml_version: \"0.1.0\"\nname: 1️⃣[a]\n" + steps, [("OML014", "1️⃣")])
    }

    @Test func nameConventionSuggestsASlug() {
        let findings = lint("""
            oml_version: "0.1.0"
            name: Nightly Export
            steps: [{id: e, component: postgres.extractor, mode: read, config: {table: orders}}]
            """)
        #expect(findings.map(\.code) == ["OML015"])
        #expect(findings.first?.help == "use 'nightly-export'")
    }

    @Test func stepsMustBeANonEmptyList() {
        expectFindings("oml_version: \"0.1.0\"\nname: x\nsteps: 1️⃣[]\n", [("OML020", "1️⃣")])
        expectFindings("oml_version: \"0.1.0\"\nname: x\nsteps: 1️⃣{a: 1}\n", [("OML020", "1️⃣")])
    }

    @Test func crlfLineEndingsKeepPositions() {
        let text = "oml_version: \"0.1.0\"\r\nname: x\r\nsteps: []\r\n"
        let findings = lint(text)
        #expect(findings.map(\.code) == ["OML020"])
        #expect(findings.first?.range.start.line == 3)
        #expect(findings.first?.range.start.column == 8)
    }
}

@Suite struct UnsuppressibleTests {
    @Test func syntaxErrorsCannotBeSilenced() {
        #expect(lint("oml_version: \"0.1.0\"  # oml-lint: disable=OML001 x\nname: a: b\n").map(\.code) == ["OML001"])
        #expect(lint("oml_version: \"0.1.0\"\nname: x\nname: y  # oml-lint: disable=OML002\nsteps: []\n").map(\.code) == ["OML002"])
    }
}

@Suite struct DocumentFieldTests {
    @Test func descriptionAndMetadataShapes() {
        let steps = "steps: [{id: e, component: postgres.extractor, mode: read, config: {table: orders}}]\n"
        expectFindings("oml_version: \"0.1.0\"\nname: x\ndescription: 1️⃣42\nmetadata: 2️⃣just text\n" + steps,
                       [("OML016", "1️⃣"), ("OML016", "2️⃣")])
        #expect(lint("oml_version: \"0.1.0\"\nname: x\ndescription: fine\nmetadata: {owner: data}\n" + steps).isEmpty)
    }
}
