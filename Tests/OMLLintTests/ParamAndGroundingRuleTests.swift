import OMLLint
import Testing

@Suite struct ParamRuleTests {
    @Test func undeclaredReferenceAtTheReference() {
        expectFindings("""
            oml_version: "0.1.0"
            name: params
            params:
              since: "2024-01-01"
            steps:
              - id: a
                component: postgres.extractor
                mode: read
                config: {query: "SELECT id FROM orders WHERE created_at >= '1️⃣${params.sinse}'"}
            """, [("OML307", "1️⃣")])
    }

    @Test func profileSettingAnUndeclaredParam() {
        expectFindings("""
            oml_version: "0.1.0"
            name: params
            params:
              limit: 10
            profiles:
              prod: {params: {1️⃣limt: 5}}
            steps:
              - {id: a, component: postgres.extractor, mode: read, config: {query: "SELECT id FROM orders LIMIT ${params.limit}"}}
            """, [("OML307", "1️⃣")])
    }

    @Test func badDefaultsTypesEnumsAndProfileValues() {
        expectFindings("""
            oml_version: "0.1.0"
            name: params
            params:
              limit: {type: int, default: 1️⃣"many"}
              region: {type: string, enum: [eu, us], default: 2️⃣asia}
              ratio: {type: 3️⃣float, default: 0.5}
              flag: {type: bool, default: true}
            profiles:
              prod: {params: {limit: 4️⃣"lots", region: us, flag: 5️⃣1}}
            steps:
              - {id: a, component: postgres.extractor, mode: read, config: {table: orders}}
            """, [("OML308", "1️⃣"), ("OML308", "2️⃣"), ("OML308", "3️⃣"), ("OML308", "4️⃣"), ("OML308", "5️⃣")])
    }

    @Test func bareScalarDefaultsTakeTheirType() {
        #expect(lint("""
            oml_version: "0.1.0"
            name: params
            params: {limit: 10, tag: nightly, ratio: 0.5}
            profiles: {prod: {params: {limit: 20, ratio: 1}}}
            steps:
              - {id: a, component: postgres.extractor, mode: read, config: {query: "SELECT id FROM orders LIMIT ${params.limit}"}}
            """).isEmpty)
    }
}

@Suite struct GroundingRuleTests {
    let header = "oml_version: \"0.1.0\"\nname: grounding\nsteps:\n"

    @Test func unknownTablesInTableAndQuery() {
        expectFindings(header + """
              - id: a
                component: postgres.extractor
                mode: read
                config: {table: 1️⃣invoices}
              - id: b
                component: postgres.extractor
                mode: read
                config: {query: "SELECT * FROM orders o JOIN 2️⃣refunds r ON r.order_id = o.id"}
            """, [("OML400", "1️⃣"), ("OML400", "2️⃣")])
    }

    @Test func unknownColumnsInColumnsAndSelectList() {
        expectFindings(header + """
              - id: a
                component: postgres.extractor
                mode: read
                config: {table: customers, columns: [id, 1️⃣phone]}
              - id: b
                component: postgres.extractor
                mode: read
                config: {query: "SELECT id, 2️⃣amount, count(*) AS n FROM orders GROUP BY id"}
            """, [("OML401", "1️⃣"), ("OML401", "2️⃣")])
    }

    @Test func namesFoldCaseAndCTEsAreNotTables() {
        #expect(lint(header + """
              - id: a
                component: postgres.extractor
                mode: read
                config: {query: "WITH big AS (SELECT * FROM Orders WHERE total > 100) SELECT * FROM big"}
              - id: b
                component: postgres.extractor
                mode: read
                config: {query: "SELECT ID, Name FROM public.CUSTOMERS"}
            """).isEmpty)
    }

    @Test func onlyTheSnapshotsConnectionIsGrounded() {
        #expect(lint(header + """
              - id: a
                component: postgres.extractor
                mode: read
                config: {connection: "@pg.warehouse", table: invoices}
              - id: b
                component: mysql.extractor
                mode: read
                config: {table: movies}
            """).isEmpty)
    }

    @Test func withoutASnapshotNothingIsGrounded() {
        #expect(lint(header + """
              - {id: a, component: postgres.extractor, mode: read, config: {table: invoices}}
            """, snapshot: nil).isEmpty)
    }
}
