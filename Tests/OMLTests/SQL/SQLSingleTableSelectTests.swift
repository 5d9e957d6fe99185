import OML
import Testing

/// Tests of the SQL single-table select analysis.
@Suite("SQL single-table select")
struct SQLSingleTableSelectTests {
    /// Checks the plain columns of a single-table select, with their offsets.
    @Test("plain columns of a single-table select, with their offsets")
    func plainColumns() {
        let result = SQLAnalysis.singleTableSelect("SELECT id, customer_id, total FROM orders")
        #expect(result == SQLSingleTableSelect(
            table: SQLTableReference(schema: nil, name: "orders", isQuoted: false, offset: 35, length: 6),
            columns: [
                SQLColumnReference(name: "id", isQuoted: false, offset: 7, length: 2),
                SQLColumnReference(name: "customer_id", isQuoted: false, offset: 11, length: 11),
                SQLColumnReference(name: "total", isQuoted: false, offset: 24, length: 5),
            ]
        ))
    }

    /// Checks the table and column names found in accepted shapes.
    @Test("table and column names of accepted shapes", arguments: [
        ("SELECT o.id AS order_id, o.total FROM orders o WHERE o.status = 'x'", "orders", ["id", "total"]),
        ("SELECT count(*) AS n, status FROM orders GROUP BY status", "orders", ["status"]),
        ("SELECT i.id, i.amount FROM invoices i", "invoices", ["id", "amount"]),
        ("SELECT * FROM orders", "orders", []),
        ("SELECT * FROM orders;", "orders", []),
        ("SELECT * FROM orders WHERE created_at >= '${params.since}' LIMIT ${params.limit}", "orders", []),
        ("select DISTINCT status from ORDERS", "ORDERS", ["status"]),
        ("SELECT ALL status FROM orders", "orders", ["status"]),
        ("SELECT DISTINCT ON (customer_id) customer_id, total FROM orders ORDER BY customer_id, created_at DESC", "orders", ["customer_id", "total"]),
        ("SELECT SQL_NO_CACHE id FROM orders", "orders", ["id"]),
        ("SELECT id order_id, total \"Total\", status AS 's' FROM orders", "orders", ["id", "total", "status"]),
        ("SELECT orders.id, o.total, x.status FROM orders o", "orders", ["id", "total"]),
        ("SELECT orders.id FROM orders", "orders", ["id"]),
        ("SELECT public.orders.id, other.orders.total FROM public.orders", "orders", ["id"]),
        ("SELECT m.title FROM movies AS m", "movies", ["title"]),
        ("SELECT t.*, id, 'lit', 42, ${params.col}, NULL, TRUE, CURRENT_DATE, id + 1, -id, id::text, CASE WHEN a THEN b END, (id), f(id) FROM orders t", "orders", ["id"]),
        ("SELECT id FROM orders WHERE customer_id IN (SELECT id FROM customers)", "orders", ["id"]),
        ("SELECT id, EXTRACT(YEAR FROM created_at) AS y FROM orders", "orders", ["id"]),
        ("SELECT id FROM orders ORDER BY id LIMIT 10 OFFSET 5", "orders", ["id"]),
        ("SELECT id FROM orders -- trailing\n", "orders", ["id"]),
        ("SELECT `id` FROM `orders`", "orders", ["id"]),
    ])
    func accepted(sql: String, table: String, columns: [String]) {
        let result = SQLAnalysis.singleTableSelect(sql)
        #expect(result?.table.name == table)
        #expect(result?.columns.map(\.name) == columns)
    }

    /// Checks that shapes other than a single-table select give nil.
    @Test("shapes that are not a single-table select", arguments: [
        "SELECT m.title FROM movies m JOIN directors d ON m.director_id = d.director_id",
        sqlAnchorQuery,
        "SELECT id FROM orders, customers",
        "SELECT id FROM orders o LEFT JOIN x ON x.id = o.id",
        "SELECT id FROM orders NATURAL JOIN customers",
        "SELECT id FROM (SELECT id FROM orders) o",
        "SELECT id FROM orders UNION SELECT id FROM customers",
        "SELECT id FROM orders WHERE x = 1 UNION ALL SELECT 1",
        "WITH x AS (SELECT * FROM orders) SELECT id FROM x",
        "SELECT 1",
        "VALUES (1)",
        "DELETE FROM orders",
        "SELECT id FROM orders; SELECT 1",
        "SELECT id FROM generate_series(1, 3)",
        "SELECT id FROM orders_${params.suffix}",
        "SELECT id FROM ${params.table}",
        "SELECT id INTO backup FROM orders",
        "SELECT id FROM orders WHERE x = 'abc",
        "SELECT id FROM orders TABLESAMPLE SYSTEM (10)",
        "SELECT (id FROM orders",
        "",
    ])
    func rejected(sql: String) {
        #expect(SQLAnalysis.singleTableSelect(sql) == nil)
    }

    /// Checks that quoted names keep their case and say so.
    @Test("quoted names keep their case and say so")
    func quotedNames() {
        let result = SQLAnalysis.singleTableSelect("SELECT \"Id\", o.\"name\" AS n FROM public.\"Orders\" o")
        #expect(result?.table == SQLTableReference(schema: "public", name: "Orders", isQuoted: true, offset: 32, length: 15))
        #expect(result?.columns == [
            SQLColumnReference(name: "Id", isQuoted: true, offset: 7, length: 4),
            SQLColumnReference(name: "name", isQuoted: true, offset: 15, length: 6),
        ])
    }

    /// Checks that column offsets count Unicode scalars.
    @Test("column offsets count Unicode scalars", arguments: [
        "SELECT 'ñ🎉' AS x, id FROM orders",
        "SELECT 'e\u{301}' AS x, id FROM orders",
    ])
    func unicodeOffsets(sql: String) {
        let result = SQLAnalysis.singleTableSelect(sql)
        #expect(result?.columns == [SQLColumnReference(name: "id", isQuoted: false, offset: 18, length: 2)])
        #expect(result?.table.offset == 26)
    }

    /// Checks that a 1 MB select finishes.
    @Test("a 1 MB select finishes")
    func largeSelect() {
        let count = 100_000
        let list = (0..<count).map { "c\($0)" }.joined(separator: ", ")
        let result = SQLAnalysis.singleTableSelect("SELECT " + list + " FROM orders")
        #expect(result?.columns.count == count)
        #expect(SQLAnalysis.singleTableSelect("SELECT " + String(repeating: "(", count: 1_000_000)) == nil)
    }
}
