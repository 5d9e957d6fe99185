import OMLLint
import Testing

@Suite struct StepRuleTests {
    let header = "oml_version: \"0.1.0\"\nname: steps\nsteps:\n"

    @Test func stepThatIsNotAMapping() {
        expectFindings(header + "  - 1️⃣just-a-string\n", [("OML100", "1️⃣")])
    }

    @Test func eachMissingFieldAtTheStepsFirstKey() {
        expectFindings(header + """
              - 1️⃣config: {table: orders}
                component: postgres.extractor
            """, [("OML101", "1️⃣"), ("OML101", "1️⃣")])
    }

    @Test func duplicateIDAtSecondOccurrence() {
        expectFindings(header + """
              - id: extract
                component: postgres.extractor
                mode: read
                config: {table: orders}
              - id: 1️⃣extract
                component: postgres.extractor
                mode: read
                config: {table: customers}
            """, [("OML102", "1️⃣")])
    }

    @Test func idConventionWarning() {
        expectFindings(header + """
              - id: 1️⃣Extract_Orders
                component: postgres.extractor
                mode: read
                config: {table: orders}
            """, [("OML103", "1️⃣")])
    }

    @Test func unknownNeedsEntrySuggestsClosestID() {
        let marked = header + """
              - id: extract
                component: postgres.extractor
                mode: read
                config: {table: orders}
              - id: write
                component: filesystem.csv_writer
                mode: write
                needs: [1️⃣extrakt]
                config: {path: out.csv}
            """
        expectFindings(marked, [("OML104", "1️⃣")])
        #expect(lint(MarkedText(marked).text).first?.help == "did you mean 'extract'?")
    }

    @Test func selfReferenceIsACycle() {
        expectFindings(header + """
              - id: shape
                component: sqlite.processor
                mode: transform
                needs: [1️⃣shape]
                config: {query: "SELECT 1"}
            """, [("OML105", "1️⃣")])
    }

    @Test func everyEdgeOfALongerCycleAndNotTheOthers() {
        expectFindings(header + """
              - id: extract
                component: postgres.extractor
                mode: read
                config: {table: orders}
              - id: a
                component: sqlite.processor
                mode: transform
                needs: [extract, 1️⃣c]
                config: {query: "SELECT * FROM df_c"}
              - id: b
                component: sqlite.processor
                mode: transform
                needs: [2️⃣a]
                config: {query: "SELECT * FROM df_a"}
              - id: c
                component: sqlite.processor
                mode: transform
                needs: [3️⃣b]
                config: {query: "SELECT * FROM df_b"}
            """, [("OML105", "1️⃣"), ("OML105", "2️⃣"), ("OML105", "3️⃣")])
    }

    @Test func invalidModeAndUnsupportedMode() {
        expectFindings(header + """
              - id: extract
                component: postgres.extractor
                mode: 1️⃣extract
                config: {table: orders}
              - id: load
                component: filesystem.csv_writer
                mode: 2️⃣read
                needs: [extract]
                config: {path: out.csv}
            """, [("OML106", "1️⃣"), ("OML107", "2️⃣")])
    }

    @Test func unknownStepKeyWarnsAndPointsToConfig() {
        let marked = header + """
              - id: extract
                component: postgres.extractor
                mode: read
                1️⃣table: orders
                config: {query: "SELECT 1"}
            """
        expectFindings(marked, [("OML108", "1️⃣")])
        #expect(lint(MarkedText(marked).text).first?.help == "'table' is a config key of 'postgres.extractor': move it under 'config'")
    }

    @Test func firstWriterHasNoInput() {
        expectFindings(header + """
              - id: 1️⃣write
                component: filesystem.csv_writer
                mode: write
                config: {path: out.csv}
            """, [("OML109", "1️⃣")])
    }

    @Test func explicitEmptyNeedsMeansNoInput() {
        expectFindings(header + """
              - id: extract
                component: postgres.extractor
                mode: read
                config: {table: orders}
              - id: 1️⃣write
                component: filesystem.csv_writer
                mode: write
                needs: []
                config: {path: out.csv}
            """, [("OML109", "1️⃣")])
    }

    @Test func implicitInputSkipsWritersAndWarns() {
        let marked = header + """
              - id: extract
                component: postgres.extractor
                mode: read
                config: {table: orders}
              - id: write-one
                component: filesystem.csv_writer
                mode: write
                needs: [extract]
                config: {path: one.csv}
              - id: 1️⃣write-two
                component: filesystem.jsonl_writer
                mode: write
                config: {path: two.jsonl}
            """
        expectFindings(marked, [("OML110", "1️⃣")])
        #expect(lint(MarkedText(marked).text).first?.help == "add 'needs: [extract]'")
    }

    @Test func extractorWithoutNeedsReadsNothing() {
        #expect(lint(header + """
              - id: a
                component: postgres.extractor
                mode: read
                config: {table: orders}
              - id: b
                component: postgres.extractor
                mode: read
                config: {table: customers}
            """).isEmpty)
    }

    @Test func writerWithTwoInputsAtNeedsKey() {
        expectFindings(header + """
              - id: a
                component: postgres.extractor
                mode: read
                config: {table: orders}
              - id: b
                component: postgres.extractor
                mode: read
                config: {table: customers}
              - id: write
                component: filesystem.csv_writer
                mode: write
                1️⃣needs: [a, b]
                config: {path: out.csv}
            """, [("OML111", "1️⃣")])
    }

    @Test func processorTakesSeveralInputs() {
        #expect(lint(header + """
              - {id: a, component: postgres.extractor, mode: read, config: {table: orders}}
              - {id: b, component: postgres.extractor, mode: read, config: {table: customers}}
              - {id: j, component: sqlite.processor, mode: transform, needs: [a, b], config: {query: "SELECT * FROM df_a JOIN df_b"}}
            """).isEmpty)
    }

    @Test func retryShapeIsChecked() {
        expectFindings(header + """
              - id: extract
                component: postgres.extractor
                mode: read
                retry: {attempts: 1️⃣0, backoff_ms: 2️⃣"soon", 3️⃣tries: 2}
                config: {table: orders}
            """, [("OML112", "1️⃣"), ("OML112", "2️⃣"), ("OML112", "3️⃣")])
    }
}
