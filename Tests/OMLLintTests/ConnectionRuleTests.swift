import OMLLint
import Testing

@Suite struct ConnectionRuleTests {
    let header = "oml_version: \"0.1.0\"\nname: connections\nsteps:\n"

    @Test func malformedReferenceSuggestsTheDottedForm() {
        let marked = header + """
              - id: extract
                component: postgres.extractor
                mode: read
                config: {connection: 1️⃣"@pgshop", table: orders}
            """
        expectFindings(marked, [("OML300", "1️⃣")])
        #expect(lint(MarkedText(marked).text).first?.help == "did you mean '@pg.shop'?")
    }

    @Test func unknownAliasAndFamily() {
        expectFindings(header + """
              - id: a
                component: postgres.extractor
                mode: read
                config: {connection: 1️⃣"@pg.shp", table: orders}
              - id: b
                component: sqlite.extractor
                mode: read
                config: {connection: 2️⃣"@sqlit.demo", table: orders}
            """, [("OML301", "1️⃣"), ("OML301", "2️⃣")])
    }

    @Test func unknownAliasNeedsAConnectionsFile() {
        #expect(lint(header + """
              - id: a
                component: postgres.extractor
                mode: read
                config: {connection: "@pg.nowhere", table: orders}
            """, connections: nil, snapshot: nil).isEmpty)
    }

    @Test func noDefaultConnectionPointsAtID() {
        expectFindings(header + """
              - id: 1️⃣a
                component: sqlite.extractor
                mode: read
                config: {table: orders}
              - id: b
                component: sqlite.extractor
                mode: read
                config: {path: local.db, table: orders}
            """, [("OML301", "1️⃣")])
    }

    @Test func familyMismatchAndSupabaseServesPostgres() {
        expectFindings(header + """
              - id: a
                component: postgres.extractor
                mode: read
                config: {connection: 1️⃣"@mysql.db_movies", table: movies}
              - id: b
                component: postgres.writer
                mode: write
                needs: [a]
                config: {connection: "@supabase.main", table: movies}
            """, [("OML302", "1️⃣")])
    }

    @Test func connectionFieldOverridePolicies() {
        expectFindings(header + """
              - id: a
                component: postgres.extractor
                mode: read
                config:
                  table: orders
                  schema: public
                  1️⃣host: 10.0.0.5
                  2️⃣port: 5433
                  3️⃣user: admin
                  4️⃣database: other
            """, [("OML304", "1️⃣"), ("OML304", "2️⃣"), ("OML303", "3️⃣"), ("OML303", "4️⃣")])
    }

    @Test func overridePolicyAppliesWithoutAReference() {
        expectFindings(header + """
              - id: a
                component: mysql.extractor
                mode: read
                config: {table: movies, 1️⃣database: other}
            """, [("OML303", "1️⃣")])
    }

    @Test func literalSecretsIncludingEnvironmentReferences() {
        expectFindings(header + """
              - id: a
                component: postgres.extractor
                mode: read
                config: {table: orders, password: 1️⃣"${PGPASSWORD}", dsn: 2️⃣"postgres://u:p@h/db"}
              - id: b
                component: supabase.writer
                mode: write
                needs: [a]
                config: {connection: "@supabase.main", table: t, key: 3️⃣eyJhbGciOiJIUzI1NiJ9abcdefghij}
            """, [("OML305", "1️⃣"), ("OML305", "2️⃣"), ("OML305", "3️⃣")])
    }

    @Test func primaryKeyIsNotASecret() {
        #expect(lint(header + """
              - {id: a, component: postgres.extractor, mode: read, config: {table: orders}}
              - id: b
                component: postgres.writer
                mode: write
                needs: [a]
                config: {table: t, write_mode: upsert, primary_key: [id]}
            """).isEmpty)
    }

    @Test func nonReadOnlyQueriesPointAtTheKeyword() {
        expectFindings(header + """
              - id: a
                component: postgres.extractor
                mode: read
                config: {query: "1️⃣DELETE FROM orders"}
              - id: b
                component: postgres.extractor
                mode: read
                config: {query: "SELECT 1; 2️⃣SELECT 2"}
              - id: c
                component: postgres.extractor
                mode: read
                config:
                  query: 3️⃣|
                    SELECT *
                    FROM orders
                    4️⃣FOR UPDATE
            """, [("OML306", "1️⃣"), ("OML306", "2️⃣"), ("OML306", "3️⃣")])
    }

    @Test func findingsInsideABlockPointAtItsKeyWithANoteInside() {
        let text = MarkedText("""
            oml_version: "0.1.0"
            name: blocks
            steps:
              - id: a
                component: postgres.extractor
                mode: read
                config:
                  query: 1️⃣|
                    SELECT *
                    FROM orders
                    2️⃣FOR UPDATE
            """)
        let finding = lint(text.text).first
        #expect(finding?.code == "OML306")
        #expect(finding?.range.start == text.markers["1️⃣"])
        #expect(finding?.notes.first?.range?.start == text.markers["2️⃣"])
        #expect(finding?.notes.first?.message == "'FOR UPDATE' is here")
    }

    @Test func readOnlyQueriesPass() {
        #expect(lint(header + """
              - id: a
                component: postgres.extractor
                mode: read
                config:
                  query: |
                    -- recent orders; DELETE nothing
                    WITH recent AS (SELECT * FROM orders WHERE status = 'DROP')
                    SELECT id, total FROM recent;
            """).isEmpty)
    }
}
