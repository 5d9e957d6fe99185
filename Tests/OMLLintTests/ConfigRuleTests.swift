import OMLLint
import Testing

@Suite struct ConfigRuleTests {
    let header = "oml_version: \"0.1.0\"\nname: config\nsteps:\n"

    @Test func unknownComponentSkipsConfigRules() {
        let marked = header + """
              - id: extract
                component: 1️⃣postgres.extracter
                mode: read
                config: {tabel: orders, password: hunter2}
            """
        expectFindings(marked, [("OML200", "1️⃣")])
        #expect(lint(MarkedText(marked).text).first?.help == "did you mean 'postgres.extractor'?")
    }

    @Test func unknownKeyMissingGroupAndWrongType() {
        expectFindings(header + """
              - id: extract
                component: postgres.extractor
                mode: read
                1️⃣config:
                  2️⃣tabel: orders
                  batch_size: 3️⃣"big"
            """, [("OML202", "1️⃣"), ("OML201", "2️⃣"), ("OML203", "3️⃣")])
    }

    @Test func missingConfigPointsAtID() {
        expectFindings(header + """
              - id: extract
                component: postgres.extractor
                mode: read
                config: {table: orders}
              - id: 1️⃣write
                component: filesystem.csv_writer
                mode: write
                needs: [extract]
            """, [("OML202", "1️⃣")])
    }

    @Test func enumAndBoundsViolations() {
        let marked = header + """
              - id: extract
                component: postgres.extractor
                mode: read
                config: {table: orders, batch_size: 1️⃣5}
              - id: write
                component: filesystem.csv_writer
                mode: write
                needs: [extract]
                config: {path: out.csv, newline: 2️⃣crfl, header: 3️⃣"yes"}
            """
        expectFindings(marked, [("OML203", "1️⃣"), ("OML203", "2️⃣"), ("OML203", "3️⃣")])
        let findings = lint(MarkedText(marked).text)
        #expect(findings[0].message == "config 'batch_size' must be between 100 and 100000")
        #expect(findings[1].help == "did you mean 'crlf'?")
    }

    @Test func configThatIsNotAMapping() {
        expectFindings(header + """
              - id: extract
                component: postgres.extractor
                mode: read
                config: 1️⃣orders
            """, [("OML203", "1️⃣")])
    }

    @Test func wholeParamReferenceIsCheckedAsTheParamsType() {
        let text = """
            oml_version: "0.1.0"
            name: typed
            params:
              size: {type: int, default: 5000}
              label: {type: string, default: big}
            steps:
              - id: extract
                component: postgres.extractor
                mode: read
                config: {table: orders, batch_size: "${params.size}"}
              - id: extract-two
                component: postgres.extractor
                mode: read
                config: {table: orders, batch_size: "${params.label}"}
            """
        let findings = lint(text)
        #expect(findings.map(\.code) == ["OML203"])
        #expect(findings.first?.range.start.line == 14)
    }

    @Test func queryAndTableTogetherAtTheSecond() {
        expectFindings(header + """
              - id: extract
                component: postgres.extractor
                mode: read
                config:
                  query: "SELECT id FROM orders"
                  1️⃣table: orders
            """, [("OML204", "1️⃣")])
    }

    @Test func legacyAliasTogetherWithItsKey() {
        expectFindings(header + """
              - {id: extract, component: postgres.extractor, mode: read, config: {table: orders}}
              - id: load
                component: mysql.writer
                mode: write
                needs: [extract]
                config: {table: t, write_mode: append, 1️⃣mode: append}
            """, [("OML204", "1️⃣")])
    }

    @Test func upsertWithoutKeyAtWriteModeValue() {
        expectFindings(header + """
              - {id: extract, component: postgres.extractor, mode: read, config: {table: orders}}
              - id: load
                component: postgres.writer
                mode: write
                needs: [extract]
                config: {table: orders_copy, write_mode: 1️⃣upsert}
            """, [("OML205", "1️⃣")])
    }

    @Test func legacyUpsertKeysSatisfyUpsert() {
        #expect(lint(header + """
              - {id: extract, component: postgres.extractor, mode: read, config: {table: orders}}
              - id: load
                component: mysql.writer
                mode: write
                needs: [extract]
                config: {table: t, mode: upsert, upsert_keys: [id]}
            """).isEmpty)
        expectFindings(header + """
              - {id: extract, component: postgres.extractor, mode: read, config: {table: orders}}
              - id: load
                component: mysql.writer
                mode: write
                needs: [extract]
                config: {table: t, mode: 1️⃣upsert}
            """, [("OML205", "1️⃣")])
    }
}
