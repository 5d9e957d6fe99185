import OML
import Testing

/// The tables of `sql` written as `schema.name` or `name`, with quoted names in double quotes.
func sqlTableNames(_ sql: String) -> [String] {
    SQLAnalysis.tableReferences(sql).map { reference in
        let name = reference.isQuoted ? "\"\(reference.name)\"" : reference.name
        return reference.schema.map { "\($0).\(name)" } ?? name
    }
}

/// Tests of the SQL table-reference analysis.
@Suite("SQL table references")
struct SQLTableReferenceTests {
    /// Checks the tables read by each statement.
    @Test("tables read by a statement", arguments: [
        ("SELECT i.id, i.amount FROM invoices i", ["invoices"]),
        (sqlAnchorQuery, ["movies", "directors"]),
        ("WITH recent AS (SELECT * FROM orders) SELECT * FROM recent JOIN customers c ON c.id = recent.customer_id", ["orders", "customers"]),
        ("SELECT * FROM a, b", ["a", "b"]),
        ("SELECT * FROM (SELECT id FROM orders) o", ["orders"]),
        ("SELECT * FROM public.\"Order Items\"", ["public.\"Order Items\""]),
        ("SELECT * FROM shop.public.orders", ["public.orders"]),
        ("SELECT * FROM `my db`.`order items`", ["my db.\"order items\""]),
        ("select * from Orders", ["Orders"]),
        ("SELECT * FROM a LEFT OUTER JOIN b ON a.id = b.id CROSS JOIN c NATURAL JOIN d INNER JOIN e USING (id)", ["a", "b", "c", "d", "e"]),
        ("SELECT * FROM a RIGHT JOIN b ON a.id = b.id, c FULL JOIN d ON true", ["a", "b", "c", "d"]),
        ("SELECT * FROM a t1, b AS t2, public.c t3 WHERE t1.x = t2.x", ["a", "b", "public.c"]),
        ("SELECT * FROM (a JOIN b ON a.id = b.id)", ["a", "b"]),
        ("SELECT * FROM ((a JOIN b ON a.id = b.id) JOIN c ON c.id = a.id)", ["a", "b", "c"]),
        ("SELECT * FROM ONLY parent", ["parent"]),
        ("SELECT * FROM a, LATERAL (SELECT * FROM b WHERE b.a_id = a.id) x", ["a", "b"]),
        ("SELECT * FROM a CROSS JOIN LATERAL unnest(a.tags) t", ["a"]),
        ("SELECT * FROM generate_series(1, 10) g", []),
        ("SELECT * FROM (VALUES (1), (2)) AS v(x)", []),
        ("SELECT * FROM orders WHERE customer_id IN (SELECT id FROM customers WHERE country = 'CZ')", ["orders", "customers"]),
        ("SELECT (SELECT max(total) FROM orders) AS m FROM customers", ["orders", "customers"]),
        ("SELECT * FROM a WHERE EXISTS (SELECT 1 FROM b WHERE b.id = a.id)", ["a", "b"]),
        ("SELECT a FROM t1 UNION SELECT b FROM t2 EXCEPT SELECT c FROM t3", ["t1", "t2", "t3"]),
        ("(SELECT a FROM t1) UNION ALL (SELECT b FROM t2)", ["t1", "t2"]),
        ("SELECT EXTRACT(YEAR FROM created_at), SUBSTRING(name FROM 2 FOR 3), TRIM(BOTH ' ' FROM name) FROM orders", ["orders"]),
        ("SELECT * FROM a WHERE x IS DISTINCT FROM y", ["a"]),
        ("SELECT * FROM a WHERE x IS NOT DISTINCT FROM y", ["a"]),
        ("SELECT CAST(x AS timestamp with time zone) FROM t", ["t"]),
        ("SELECT * FROM a GROUP BY x WITH ROLLUP", ["a"]),
        // Common table expressions are not tables.
        ("WITH RECURSIVE r(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM r WHERE n < 5) SELECT * FROM r", []),
        ("WITH a AS (SELECT * FROM x), b AS MATERIALIZED (SELECT * FROM a) SELECT * FROM b JOIN y ON true", ["x", "y"]),
        ("WITH a AS NOT MATERIALIZED (SELECT * FROM x) SELECT * FROM a", ["x"]),
        ("WITH recent AS (SELECT 1) SELECT * FROM RECENT", []),
        ("WITH \"Recent\" AS (SELECT 1) SELECT * FROM recent, \"Recent\"", ["recent"]),
        ("WITH recent AS (SELECT 1) SELECT * FROM public.recent", ["public.recent"]),
        // Comments and strings hide nothing.
        ("SELECT * FROM a /* , hidden */ -- JOIN c\n", ["a"]),
        ("SELECT 'FROM x JOIN y', $$ FROM z $$ FROM a", ["a"]),
        // MySQL select modifiers and joins.
        ("SELECT STRAIGHT_JOIN id FROM a STRAIGHT_JOIN b ON a.id = b.id", ["a", "b"]),
        ("SELECT * FROM a USE INDEX (i1, i2), b", ["a", "b"]),
        // Templated names are unknown, not tables.
        ("SELECT * FROM orders_${params.suffix}", []),
        ("SELECT * FROM ${params.schema}.orders", []),
        ("SELECT * FROM public.${params.table}", []),
        ("SELECT * FROM ${params.table}", []),
        // Other statements.
        ("DELETE FROM orders WHERE id IN (SELECT id FROM stale)", ["orders", "stale"]),
        ("SELECT 1", []),
        ("", []),
        // Unfinished input still yields what precedes the problem.
        ("SELECT * FROM orders WHERE x = 'abc", ["orders"]),
        ("SELECT * FROM orders JOIN (SELECT * FROM items", ["orders", "items"]),
    ])
    func tables(sql: String, expected: [String]) {
        #expect(sqlTableNames(sql) == expected)
    }

    /// Checks that a reference carries its schema, quoting and the span of its name tokens.
    @Test("a reference carries its schema, quoting and the span of its name tokens")
    func referenceDetails() {
        let quoted = SQLAnalysis.tableReferences("SELECT * FROM public.\"Order Items\"")
        #expect(quoted == [SQLTableReference(schema: "public", name: "Order Items", isQuoted: true, offset: 14, length: 20)])

        let plain = SQLAnalysis.tableReferences("SELECT i.id, i.amount FROM invoices i")
        #expect(plain == [SQLTableReference(schema: nil, name: "invoices", isQuoted: false, offset: 27, length: 8)])

        let anchor = SQLAnalysis.tableReferences(sqlAnchorQuery)
        #expect(anchor.map(\.offset) == [sqlScalarOffset(of: "movies", in: sqlAnchorQuery), sqlScalarOffset(of: "directors d", in: sqlAnchorQuery)])
        #expect(anchor.map(\.length) == [6, 9])
    }

    /// Checks that offsets count Unicode scalars.
    @Test("offsets count Unicode scalars")
    func unicodeOffsets() {
        let sql = "/* 日本語 e\u{301} */ SELECT '🎉' AS x FROM \"Zäune\""
        let references = SQLAnalysis.tableReferences(sql)
        #expect(references == [SQLTableReference(schema: nil, name: "Zäune", isQuoted: true, offset: 34, length: 7)])
        #expect(sqlScalarOffset(of: "\"Zäune\"", in: sql) == 34)
    }

    /// Checks that a 1 MB query and pathological inputs finish.
    @Test("a 1 MB query and pathological inputs finish")
    func largeInputs() {
        let unit = " UNION ALL SELECT a.x FROM a JOIN b ON a.id = b.id, c WHERE a.y IN (SELECT y FROM d)"
        let big = "SELECT 1" + String(repeating: unit, count: 1_000_000 / unit.utf8.count + 1)
        let count = 1_000_000 / unit.utf8.count + 1
        #expect(SQLAnalysis.tableReferences(big).count == 4 * count)
        #expect(SQLAnalysis.tableReferences(String(repeating: "FROM ", count: 200_000)).isEmpty)
        #expect(SQLAnalysis.tableReferences(String(repeating: "FROM (", count: 150_000)).isEmpty)
        #expect(SQLAnalysis.tableReferences("SELECT * FROM " + String(repeating: "t, ", count: 100_000)).count == 100_000)
        let nested = String(repeating: "(SELECT * FROM t WHERE x IN ", count: 30_000) + "(1)" + String(repeating: ")", count: 30_000)
        #expect(SQLAnalysis.tableReferences(nested).count == 30_000)
        let ctes = "WITH " + (0..<50_000).map { "c\($0) AS (SELECT 1)" }.joined(separator: ", ") + " SELECT * FROM c1, t"
        #expect(sqlTableNames(ctes) == ["t"])
    }
}
