import OML
import OMLLint
import OsirisCore
import Testing

/// The connections file the rule tests use (the conformance suite's, inline).
let testConnections = try! ConnectionsFile.parse(Array("""
    version: 1
    connections:
      pg:
        shop: {default: true, host: 127.0.0.1, port: 5432, database: shop, user: etl, password: "${SHOP_PG_PASSWORD}"}
        warehouse: {dsn: "${WAREHOUSE_URL}"}
      mysql:
        db_movies: {default: true, host: 127.0.0.1, database: movies, user: etl, password: "${MOVIES_MYSQL_PASSWORD}"}
      supabase:
        main: {host: db.example.supabase.co, database: postgres, user: postgres, password: "${SUPABASE_DB_PASSWORD}"}
      sqlite:
        demo: {path: examples/demo/shop.db}
    """.utf8), path: "osiris_connections.yaml")

/// A snapshot of `@pg.shop` with customers(id, name, email) and orders(id, customer_id, total, status).
let testSnapshot = try! Snapshot.decode(Array("""
    {"snapshot_version": 1, "connection": "@pg.shop", "family": "postgres", "database": "shop", "depth": "columns",
     "tables": [
      {"schema": "public", "name": "customers", "kind": "table", "columns": [
        {"name": "id", "type": "integer", "logical_type": "int64", "nullable": false},
        {"name": "name", "type": "text", "logical_type": "text", "nullable": false},
        {"name": "email", "type": "text", "logical_type": "text", "nullable": true}]},
      {"schema": "public", "name": "orders", "kind": "table", "columns": [
        {"name": "id", "type": "bigint", "logical_type": "int64", "nullable": false},
        {"name": "customer_id", "type": "integer", "logical_type": "int64", "nullable": false},
        {"name": "total", "type": "numeric(12,2)", "logical_type": "decimal", "nullable": false},
        {"name": "status", "type": "text", "logical_type": "text", "nullable": false}]}]}
    """.utf8), path: "snapshot.json")

/// Lints marked text and checks that the findings are exactly `expected`, as (code, marker) pairs in
/// position order, each at its marker's line and column.
func expectFindings(
    _ marked: String, _ expected: [(String, String)], connections: ConnectionsFile? = testConnections,
    snapshot: Snapshot? = testSnapshot, sourceLocation: SourceLocation = #_sourceLocation
) {
    let input = MarkedText(marked)
    let linter = Linter(connections: connections, snapshot: snapshot)
    let result = linter.lint(Array(input.text.utf8), file: "test.oml")
    let actual = result.diagnostics.map { "\($0.code)@\($0.range.start)" }
    let wanted = expected.map { code, marker -> String in
        guard let position = input.markers[marker] else {
            Issue.record("marker \(marker) is not in the text", sourceLocation: sourceLocation)
            return code
        }
        return "\(code)@\(position)"
    }
    #expect(actual == wanted, "messages: \(result.diagnostics.map(\.message))", sourceLocation: sourceLocation)
}

/// Lints plain text and returns the findings.
func lint(_ text: String, connections: ConnectionsFile? = testConnections, snapshot: Snapshot? = testSnapshot) -> [Diagnostic] {
    Linter(connections: connections, snapshot: snapshot).lint(Array(text.utf8), file: "test.oml").diagnostics
}
