import Foundation
import OML
import OsirisCore
import OsirisData
@testable import OsirisDrivers
import Synchronization
import Testing

/// Queries that only pick rows and columns of a streamed input (`PlainSelect`), against the same
/// queries over the input loaded into a table (a WITH clause makes the processor load it): the same
/// schema and the same values, for every logical type.
@Suite final class SQLitePlainSelectTests {
    let folder = temporaryFolder()
    deinit { try? FileManager.default.removeItem(at: folder) }
    let schema = Schema([
        Field(name: "id", type: .int64), Field(name: "flag", type: .bool), Field(name: "price", type: .float64),
        Field(name: "amount", type: .decimal, precision: 10, scale: 2), Field(name: "loose", type: .decimal),
        Field(name: "city", type: .text), Field(name: "raw", type: .bytes), Field(name: "day", type: .date),
        Field(name: "at", type: .timestamp), Field(name: "doc", type: .json), Field(name: "key", type: .uuid),
    ])

    /// `rows` rows with NULLs in every column, NaN and large prices, decimals whole and not, a
    /// decimal that is no number, an empty blob.
    func input(rows: Int) -> [RecordBatch] {
        var batches: [RecordBatch] = []
        var start = 0
        while start < rows {
            let end = min(start + 700, rows)
            var values: [[Value]] = []
            for n in start..<end {
                func maybe(_ value: Value, _ every: Int) -> Value { n % every == 0 ? .null : value }
                let price: Value = n % 19 == 0 ? .float64(.nan) : (n % 23 == 0 ? .float64(1.5e20) : .float64(Double(n) / 7))
                let loose: Value = n % 29 == 0 ? .text("n/a", .decimal) : .text(n % 3 == 0 ? "\(n)" : "\(n).\(n % 10)5", .decimal)
                values.append([
                    .int64(Int64(n)), maybe(.bool(n % 2 == 0), 11), maybe(price, 13),
                    maybe(.text(n % 4 == 0 ? "\(n % 500).00" : "\(n % 500).\(String(format: "%02d", n % 100))", .decimal), 17),
                    maybe(loose, 31), maybe(.text(["Oslo", "Ös", "", "Rome"][n % 4], .text), 37),
                    maybe(.bytes(n % 5 == 0 ? [] : [UInt8(n % 256), 0, 7]), 41), maybe(.text("2024-01-\(10 + n % 18)", .date), 43),
                    maybe(.text("2024-01-01 10:00:\(10 + n % 50)", .timestamp), 47), maybe(.text("{\"n\": \(n)}", .json), 53),
                    maybe(.text("00000000-0000-0000-0000-\(String(format: "%012d", n))", .uuid), 59),
                ])
            }
            batches.append(batch(schema, values))
            start = end
        }
        return batches
    }

    func run(_ query: String, rows: Int) throws -> CollectingSink {
        let sink = CollectingSink()
        let step = context("sqlite.processor", mode: "transform", config: ["query": .string(query)], folder: folder)
        try SQLiteProcessor().process(step, inputs: [FixedSource(stepID: "orders", schema: schema, batches: input(rows: rows))], output: sink)
        return sink
    }

    /// Runs `query` (with `{T}` for the table) streamed and loaded, expects the same schema and rows,
    /// and returns whether the streamed run was a plain select.
    @discardableResult
    func compare(_ query: String, rows: Int = 3000) throws -> Bool {
        let streamedChoices = SQLiteProcessor.Choices(), loadedChoices = SQLiteProcessor.Choices()
        let streamed = try SQLiteProcessor.$observed.withValue(streamedChoices) {
            try run(query.replacingOccurrences(of: "{T}", with: "input_df"), rows: rows)
        }
        let loaded = try SQLiteProcessor.$observed.withValue(loadedChoices) {
            try run("WITH t AS (SELECT * FROM input_df) " + query.replacingOccurrences(of: "{T}", with: "t"), rows: rows)
        }
        #expect(streamed.schema == loaded.schema, "\(query)")
        #expect(streamed.rows == loaded.rows, "\(query)")
        #expect(loadedChoices.plainSelects.load(ordering: .relaxed) == 0, "the loaded run goes through SQLite's values")
        return streamedChoices.plainSelects.load(ordering: .relaxed) == 1
    }

    @Test func everyTypeComesOutAsSQLiteWouldReturnIt() throws {
        #expect(try compare("SELECT * FROM {T}"))
        #expect(try compare("SELECT * FROM {T} WHERE id % 2 = 0"))
        #expect(try compare("select * from {T} where amount > 100 and city <> 'Oslo'"))
        #expect(try compare("SELECT * FROM {T} WHERE loose IS NULL OR price IS NULL OR raw IS NULL"))
        #expect(try compare("SELECT * FROM {T} WHERE id > 5000"))
    }

    @Test func columnsInAnyOrderAliasedAndRepeated() throws {
        #expect(try compare("SELECT city, id, amount AS total, city FROM {T} WHERE flag"))
        #expect(try compare("SELECT x.doc, x.key, x.at, x.day FROM {T} AS x WHERE x.id BETWEEN 10 AND 900"))
        #expect(try compare("SELECT \"raw\", loose FROM {T};"))
        let step = try run("SELECT id FROM orders WHERE id < 3", rows: 10)
        #expect(step.rows == [["0"], ["1"], ["2"]])
    }

    @Test func otherShapesKeepSQLitesValues() throws {
        // Expressions, aggregates, ordering, limits and subqueries: the same results either way.
        for query in [
            "SELECT id + 1, city FROM {T}", "SELECT city, COUNT(*) FROM {T} GROUP BY city", "SELECT id FROM {T} ORDER BY price DESC, id",
            "SELECT id FROM {T} LIMIT 5", "SELECT DISTINCT city FROM {T}", "SELECT id FROM {T} WHERE id IN (SELECT 1 UNION SELECT 2)",
            "SELECT max(id) FROM {T}",
        ] {
            #expect(try !compare(query), "\(query)")
        }
    }

    /// Whether the processor would run `query` as a plain select, asked of `PlainSelect.prepare`
    /// itself, without running it.
    func isPlain(_ query: String) throws -> Bool {
        let database = try SQLiteDatabase(path: "", create: true)
        let table = SQLiteStreamTable(
            source: FixedSource(stepID: "orders", schema: schema, batches: []), schema: schema, cancellation: CancellationToken(),
            progress: RecordingProgress(), temporaryDirectory: folder.path, groupingLimit: 0)
        try SQLiteProcessor.expose(table, stepID: "orders", on: database)
        let original = try database.prepare(query)
        return PlainSelect.prepare(query, original: original, table: table, tableName: "df_orders", database: database) != nil
    }

    @Test func whichQueriesArePlain() throws {
        for query in [
            "SELECT * FROM input_df", "SELECT * FROM orders WHERE id % 2 = 0", "SELECT city, id AS n FROM df_orders WHERE city > 'M'",
            "SELECT o.city FROM input_df o WHERE o.flag AND o.amount < 10",
        ] {
            #expect(try isPlain(query), "\(query)")
        }
        for query in [
            // An expression, an aggregate, a column of a subquery, a subquery in the WHERE.
            "SELECT id + 1 FROM input_df", "SELECT max(id) FROM input_df", "SELECT id FROM (SELECT id FROM input_df)",
            "SELECT id FROM input_df WHERE id IN (SELECT 1 UNION SELECT 2)", "SELECT id FROM input_df WHERE id = (SELECT 1)",
            "SELECT id, 1 FROM input_df", "SELECT id FROM input_df ORDER BY id",
        ] {
            #expect(try !isPlain(query), "\(query)")
        }
    }

    @Test func whichTextsMayBePlain() {
        #expect(PlainSelect.fromOffset("SELECT * FROM input_df WHERE id = 1") == 9)
        #expect(PlainSelect.fromOffset("select a, b from t") == 12)
        #expect(PlainSelect.fromOffset("SELECT 'FROM' AS x, \"from\" FROM t") == 27)
        for query in [
            "SELECT a FROM t GROUP BY a", "SELECT a FROM t ORDER BY a", "SELECT a FROM t LIMIT 1", "SELECT DISTINCT a FROM t",
            "SELECT a FROM t UNION SELECT a FROM t", "WITH x AS (SELECT 1) SELECT * FROM x", "EXPLAIN SELECT a FROM t",
            "SELECT a FROM t WHERE a = ${params.a}", "SELECT a FROM t WHERE a = 'open", "SELECT sum(a) OVER () FROM t",
            "SELECT a FROM t WHERE a IN (SELECT 1)", "VALUES (1)",
            // An aggregate query whose select list is plain columns (SQLite 3.39 and later accept it).
            "SELECT a FROM t HAVING count(*) > 1",
        ] {
            #expect(PlainSelect.fromOffset(query) == nil, "\(query)")
        }
    }
}
