import OML
import Testing

/// The select of the anchor examples (mysql_duckdb_supabase_demo.yaml), as YAML hands it over.
let sqlAnchorQuery = """
    SELECT
      m.movie_id,
      m.title,
      m.release_year,
      m.director_id,
      m.genre,
      m.runtime_minutes,
      m.budget_usd,
      m.box_office_usd,
      d.name as director_name,
      d.nationality as director_nationality
    FROM movies m
    JOIN directors d ON m.director_id = d.director_id
    WHERE m.director_id IS NOT NULL

    """

/// Tests of the SQL read-only check.
@Suite("SQL read-only check")
struct SQLReadOnlyTests {
    /// Checks that read-only single statements are accepted.
    @Test("read-only single statements are accepted", arguments: [
        "SELECT 1",
        "SELECT 1;",
        "SELECT 1; -- done",
        "SELECT 1 ; /* done */ ;; ",
        "select * from orders",
        "SELECT 'DROP TABLE x' AS s",
        "SELECT id FROM t WHERE created_at >= '${params.since}' LIMIT ${params.limit}",
        "SELECT * FROM orders WHERE created_at >= '${params.since}' LIMIT ${params.limit}",
        sqlAnchorQuery,
        "WITH recent AS (SELECT * FROM orders) SELECT * FROM recent",
        "  (SELECT 1) UNION (SELECT 2)",
        "VALUES (1), (2)",
        "TABLE orders",
        "SHOW TABLES",
        "DESCRIBE orders",
        "DESC orders",
        "EXPLAIN SELECT 1",
        "SELECT 1 /* DROP TABLE x; */",
        "SELECT 1 -- ; DELETE FROM x",
        "SELECT $$; DROP TABLE x$$",
        "SELECT $body$ INSERT INTO t $body$ AS s",
        "SELECT E'\\'; DROP TABLE x; --'",
        "SELECT \"delete\", `update` FROM t",
        "SELECT replace(name, 'a', 'b'), truncate(x, 2), insert(s, 1, 2, 'x') FROM t",
        "SELECT t.set, t.update, t.lock FROM t",
        "SELECT x AS copy, y AS call FROM t",
        "SELECT CAST(y AS CHAR CHARACTER SET utf8) FROM t",
        "SELECT cluster, lock FROM servers",
        "SELECT * FROM t ORDER BY set",
        "SELECT CAST(x AS timestamp with time zone) FROM t",
        "SELECT SUBSTRING(name FROM 2 FOR 3) FROM t",
        "SHOW CREATE TABLE orders",
        "SELECT * FROM t WHERE name = 'O\\'Brien' AND note = 'a;b'",
        "SELECT 'C:\\path\\'",
    ])
    func accepted(sql: String) {
        #expect(SQLAnalysis.readOnlyProblem(sql) == nil)
    }

    /// Checks that problems are reported with their keyword and offset.
    @Test("problems are reported with their keyword and offset", arguments: [
        ("", SQLReadOnlyProblem.empty),
        ("   ", .empty),
        (";", .empty),
        ("-- only a comment", .empty),
        ("/* only */ ; -- comments", .empty),
        ("DELETE FROM orders", .notAQuery(keyword: "DELETE", offset: 0)),
        ("delete from orders", .notAQuery(keyword: "DELETE", offset: 0)),
        ("  -- hi\n  UPDATE t SET a = 1", .notAQuery(keyword: "UPDATE", offset: 10)),
        ("(DELETE FROM t)", .notAQuery(keyword: "DELETE", offset: 1)),
        ("123", .notAQuery(keyword: "123", offset: 0)),
        ("'abc'", .notAQuery(keyword: "'abc'", offset: 0)),
        ("MERGE INTO t USING s ON true WHEN MATCHED THEN DELETE", .notAQuery(keyword: "MERGE", offset: 0)),
        ("/*!50000 DROP TABLE x */ SELECT 1", .notAQuery(keyword: "DROP", offset: 9)),
        ("SELECT 1; DROP TABLE movies", .multipleStatements(secondOffset: 10)),
        ("SELECT 1; SELECT 2", .multipleStatements(secondOffset: 10)),
        ("SELECT 'a\\'; DROP TABLE x; --'", .multipleStatements(secondOffset: 13)),
        ("SELECT 1 /*!; DROP TABLE x */", .multipleStatements(secondOffset: 14)),
        ("WITH x AS (DELETE FROM t RETURNING *) SELECT * FROM x", .writes(keyword: "DELETE", offset: 11)),
        ("WITH x AS (INSERT INTO log VALUES (1) RETURNING id) SELECT * FROM x", .writes(keyword: "INSERT", offset: 11)),
        ("WITH u AS (UPDATE t SET a = 1 RETURNING *) SELECT * FROM u", .writes(keyword: "UPDATE", offset: 11)),
        ("SELECT * FROM t FOR UPDATE", .writes(keyword: "FOR UPDATE", offset: 16)),
        ("select * from t for update skip locked", .writes(keyword: "FOR UPDATE", offset: 16)),
        ("SELECT * FROM t FOR SHARE", .writes(keyword: "FOR SHARE", offset: 16)),
        ("SELECT * FROM t FOR NO KEY UPDATE", .writes(keyword: "FOR NO KEY UPDATE", offset: 16)),
        ("SELECT * FROM t FOR KEY SHARE", .writes(keyword: "FOR KEY SHARE", offset: 16)),
        ("SELECT * FROM (SELECT * FROM t FOR UPDATE) x", .writes(keyword: "FOR UPDATE", offset: 31)),
        ("SELECT * FROM t LOCK IN SHARE MODE", .writes(keyword: "LOCK", offset: 16)),
        ("SELECT * INTO new_t FROM t", .writes(keyword: "INTO", offset: 9)),
        ("SELECT a INTO OUTFILE '/tmp/x' FROM t", .writes(keyword: "INTO", offset: 9)),
        ("EXPLAIN ANALYZE DELETE FROM t", .writes(keyword: "ANALYZE", offset: 8)),
        ("WITH x AS (SELECT 1) DELETE FROM t", .writes(keyword: "DELETE", offset: 21)),
        ("SELECT 'abc", .unterminated(offset: 7)),
        ("SELECT \"abc", .unterminated(offset: 7)),
        ("/* never closed", .unterminated(offset: 0)),
        ("SELECT 1; /* never closed", .unterminated(offset: 10)),
        ("SELECT 1 FROM t WHERE a = $$x", .unterminated(offset: 26)),
        ("SELECT ${params.x", .unterminated(offset: 7)),
    ])
    func problems(sql: String, expected: SQLReadOnlyProblem) {
        #expect(SQLAnalysis.readOnlyProblem(sql) == expected)
    }

    /// Checks that offsets count Unicode scalars.
    @Test("offsets count Unicode scalars")
    func unicodeOffsets() {
        let sql = "SELECT '日本語 🎉' AS s; DROP TABLE x"
        #expect(SQLAnalysis.readOnlyProblem(sql) == .multipleStatements(secondOffset: 21))
        #expect(sqlScalarOffset(of: "DROP", in: sql) == 21)
    }

    /// Checks that a 1 MB query finishes.
    @Test("a 1 MB query finishes")
    func largeQuery() {
        let condition = " OR (a = 'x''y' AND b IN (SELECT c FROM d WHERE e > ${params.n}))"
        let big = "SELECT * FROM t WHERE false" + String(repeating: condition, count: 1_000_000 / condition.utf8.count + 1)
        #expect(SQLAnalysis.readOnlyProblem(big) == nil)
        #expect(SQLAnalysis.readOnlyProblem(String(repeating: "SELECT 1;", count: 120_000)) == .multipleStatements(secondOffset: 9))
        #expect(SQLAnalysis.readOnlyProblem(String(repeating: "(", count: 1_000_000)) == .notAQuery(keyword: "(", offset: 999_999))
    }
}
