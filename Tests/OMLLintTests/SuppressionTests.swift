import OMLLint
import OsirisCore
import Testing

/// Suppression comments: what they silence, and the rules they cannot (OML004).
@Suite struct SuppressionTests {
    let header = "oml_version: \"0.1.0\"\nname: p\nsteps:\n"

    @Test func commentSilencesItsLineAndTheNext() {
        #expect(lint("""
            oml_version: "0.1.0"
            name: suppressed
            steps:
              - {id: e, component: postgres.extractor, mode: read, config: {table: orders}}
              # oml-lint: disable=OML110,OML103 linear form intended
              - id: Write
                component: filesystem.csv_writer
                mode: write
                config: {path: out.csv}
            """).isEmpty)
    }

    @Test func suppressionDoesNotReachTwoLinesDown() {
        let findings = lint("""
            oml_version: "0.1.0"
            name: suppressed
            steps:
              - {id: e, component: postgres.extractor, mode: read, config: {table: orders}}
              # oml-lint: disable=OML110

              - id: write
                component: filesystem.csv_writer
                mode: write
                config: {path: out.csv}
            """)
        #expect(findings.map(\.code) == ["OML110"])
    }

    @Test func otherCodesAreNotSilenced() {
        let findings = lint("""
            oml_version: "0.1.0"
            name: Suppressed   # oml-lint: disable=OML012
            steps:
              - {id: e, component: postgres.extractor, mode: read, config: {table: orders}}
            """)
        #expect(findings.map(\.code) == ["OML015"])
    }

    @Test func aCommentNamingAnUnsuppressibleRuleIsReportedAndSilencesNothing() {
        expectFindings(header + """
              - id: e
                # oml-lint: disable=1️⃣OML200 it is fine
                component: 2️⃣nope.extractor
                mode: read
            """, [("OML004", "1️⃣"), ("OML200", "2️⃣")])
    }

    @Test func eachCodeOfAListIsJudgedAlone() {
        expectFindings(header + """
              - {id: e, component: postgres.extractor, mode: read, config: {table: orders}}
              # oml-lint: disable=OML110,1️⃣oml105 linear form
              - {id: 2️⃣w, component: filesystem.csv_writer, mode: write, config: {path: o.csv}}
            """, [("OML004", "1️⃣")])
    }

    @Test func aCycleCannotBeSilenced() {
        expectFindings(header + """
              - {id: e, component: postgres.extractor, mode: read, config: {table: orders}}
              # oml-lint: disable=1️⃣OML105
              - {id: p, component: sqlite.processor, mode: transform, needs: [e, 2️⃣q], config: {query: "select 1"}}
              # oml-lint: disable=3️⃣OML105
              - {id: q, component: sqlite.processor, mode: transform, needs: [4️⃣p], config: {query: "select 1"}}
            """, [("OML004", "1️⃣"), ("OML105", "2️⃣"), ("OML004", "3️⃣"), ("OML105", "4️⃣")])
    }

    @Test func warningsAndJudgmentRulesStaySuppressible() {
        let text = """
            oml_version: "0.2.0"  # oml-lint: disable=OML013 written for a newer tool
            name: Not_Conventional  # oml-lint: disable=OML015
            steps:
              - {id: e, component: postgres.extractor, mode: read, config: {query: "DELETE FROM orders"}}  # oml-lint: disable=OML306
              # oml-lint: disable=OML110
              - {id: w, component: filesystem.csv_writer, mode: write, config: {path: o.csv}}
            """
        #expect(lint(text).map(\.code) == [])
    }

    @Test func anErrorOfAPartlySuppressibleRuleStays() {
        let text = "oml_version: 0.1  # oml-lint: disable=OML013\nname: p\nsteps:\n  - {id: e, component: postgres.extractor, mode: read, config: {table: orders}}\n"
        #expect(lint(text).map(\.code) == ["OML013"])
    }

    @Test func theExplanationSaysWhetherARuleCanBeDisabled() throws {
        for code in ["OML004", "OML105", "OML200", "OML203", "OML305", "OML307"] {
            let rule = try #require(Linter.rule(code: code))
            #expect(rule.documentation.contains("cannot be disabled"), "\(code)")
            #expect(Linter.unsuppressible.contains(code))
        }
        for code in ["OML012", "OML110", "OML201", "OML306", "OML400", "OML401"] {
            let rule = try #require(Linter.rule(code: code))
            #expect(!rule.documentation.contains("This rule cannot be disabled"), "\(code)")
            #expect(!Linter.unsuppressible.contains(code))
        }
        #expect(Linter.rule(code: "OML013")?.documentation.contains("Its errors cannot be disabled") == true)
    }

    @Test func unrunnableComponentsAreNotALintFinding() {
        let text = header + """
              - {id: e, component: postgres.extractor, mode: read, config: {table: orders}}
              - {id: p, component: duckdb.processor, mode: transform, needs: [e], config: {query: "select 1"}}
              - {id: w, component: filesystem.csv_writer, mode: write, needs: [p], config: {path: o.csv}}
            """
        #expect(lint(text).map(\.code) == [])
        let compileLinter = Linter(connections: testConnections, reportsUnrunnableComponents: true)
        let findings = compileLinter.lint(Array(text.utf8), file: "p.oml").diagnostics
        #expect(findings.map { "\($0.code)@\($0.range.start) \($0.severity)" } == ["OML206@5:24 warning"])
        #expect(findings.first?.help == "use 'sqlite.processor' instead")
    }
}
