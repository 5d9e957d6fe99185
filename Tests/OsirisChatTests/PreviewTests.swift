import Testing

@testable import OsirisChat

/// The rewrite behind `--preview`: extracts limited, every writer a CSV file in the preview folder.
@Suite struct PreviewTests {
    @Test func extractsAreLimitedAndWritersBecomeCSVFiles() throws {
        let oml = """
            oml_version: "0.1.0"
            name: q
            steps:
              - id: e
                component: sqlite.extractor
                mode: read
                config: {connection: "@sqlite.demo", query: "SELECT id FROM customers;"}
              - id: t
                component: sqlite.extractor
                mode: read
                config: {table: orders, limit: 1}
              - id: w
                component: postgres.writer
                mode: write
                needs: [e]
                config: {connection: "@pg.warehouse", table: customers, write_mode: upsert, primary_key: [id]}

            """
        let (text, writers) = try PipelinePreview(rows: 3, executable: "/bin/false", connectionsPath: nil).rewrite(oml, directory: "/tmp/p")
        #expect(writers == ["w"])
        #expect(text == """
            oml_version: "0.1.0"
            name: "q"
            steps:
              - id: "e"
                component: "sqlite.extractor"
                mode: "read"
                config:
                  connection: "@sqlite.demo"
                  query: "SELECT * FROM (SELECT id FROM customers) AS osiris_preview LIMIT 3"
              - id: "t"
                component: "sqlite.extractor"
                mode: "read"
                config:
                  limit: 1
                  table: "orders"
              - id: "w"
                component: "filesystem.csv_writer"
                mode: "write"
                needs: ["e"]
                config:
                  path: "/tmp/p/w.csv"

            """)
    }
}
