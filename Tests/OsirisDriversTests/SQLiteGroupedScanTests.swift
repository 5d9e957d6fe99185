import Foundation
import OML
import OsirisCore
import OsirisData
@testable import OsirisDrivers
import Testing

/// GROUP BY over a streamed input, which the virtual table returns grouped (`GroupedRows`), against
/// the same query over the input loaded into a table (a WITH clause makes the processor load it).
@Suite final class SQLiteGroupedScanTests {
    let folder = temporaryFolder()
    deinit { try? FileManager.default.removeItem(at: folder) }
    let schema = Schema([
        Field(name: "id", type: .int64), Field(name: "city", type: .text), Field(name: "amount", type: .decimal),
        Field(name: "price", type: .float64), Field(name: "bucket", type: .int64), Field(name: "flag", type: .bool),
    ])

    /// `rows` rows in batches of 1,000: cities with NULLs, `buckets` values of `bucket`, decimals
    /// with two digits (some whole), prices with NULLs.
    func input(rows: Int, buckets: Int) -> [RecordBatch] {
        let cities = ["Oslo", "Paris", "Rome", "oslo", "Riga", "Ös", ""]
        var batches: [RecordBatch] = []
        var start = 0
        while start < rows {
            let end = min(start + 1000, rows)
            var values: [[Value]] = []
            for n in start..<end {
                let city: Value = n % 11 == 0 ? .null : .text(cities[(n * 3) % cities.count], .text)
                let cents = n % 3 == 0 ? "00" : String(format: "%02d", n % 100)
                let amount: Value = n % 13 == 0 ? .null : .text("\(n % 97).\(cents)", .decimal)
                let price: Value = n % 17 == 0 ? .null : .float64(Double(n % 5) * 0.5)
                values.append([.int64(Int64(n)), city, amount, price, .int64(Int64((n * 7919) % buckets)), .bool(n % 2 == 0)])
            }
            batches.append(batch(schema, values))
            start = end
        }
        return batches
    }

    func run(_ query: String, rows: Int = 5000, buckets: Int = 50, budget: Int = 64 << 20) throws -> [[String]] {
        let sink = CollectingSink()
        var step = context("sqlite.processor", mode: "transform", config: ["query": .string(query)], folder: folder)
        step.memoryBudget = budget
        try SQLiteProcessor().process(step, inputs: [FixedSource(stepID: "orders", schema: schema, batches: input(rows: rows, buckets: buckets))], output: sink)
        return sink.rows
    }

    /// The query over the streamed input and over a loaded table: `{T}` stands for the table.
    func compare(_ query: String, rows: Int = 5000, buckets: Int = 50, budget: Int = 64 << 20) throws -> [[String]] {
        let streamed = try run(query.replacingOccurrences(of: "{T}", with: "input_df"), rows: rows, buckets: buckets, budget: budget)
        let loaded = try run(
            "WITH t AS (SELECT * FROM input_df) " + query.replacingOccurrences(of: "{T}", with: "t"), rows: rows, buckets: buckets, budget: budget)
        #expect(streamed == loaded, "\(query)")
        return streamed
    }

    @Test func groupsOfTextWithNullsAndCaseEqualALoadedTable() throws {
        let rows = try compare("SELECT city, COUNT(*), SUM(amount), AVG(price), MIN(id), MAX(id) FROM {T} GROUP BY city ORDER BY city")
        // BINARY order: NULL first, then the bytes ("Ö" is 0xC3 0x96, after every ASCII letter).
        #expect(rows.map { $0[0] } == ["NULL", "", "Oslo", "Paris", "Riga", "Rome", "oslo", "Ös"])
        #expect(rows.first?[1] == "455")
    }

    @Test func groupByWithoutOrderByComesOutInKeyOrder() throws {
        // SQLite 3.40 drops the ORDER BY sorter when ORDER BY equals GROUP BY, and takes the
        // table's order without it when no ORDER BY is given: both must be the key order.
        let plain = try compare("SELECT city, bucket, COUNT(*) FROM {T} GROUP BY city, bucket")
        let ordered = try compare("SELECT city, bucket, COUNT(*) FROM {T} GROUP BY city, bucket ORDER BY city, bucket")
        #expect(plain == ordered)
        #expect(plain.count == 8 * 50)
        let descending = try compare("SELECT city, bucket, COUNT(*) FROM {T} GROUP BY city, bucket ORDER BY city DESC, bucket DESC")
        #expect(descending == Array(ordered.reversed()))
        _ = try compare("SELECT city, bucket, COUNT(*) FROM {T} GROUP BY city, bucket ORDER BY city DESC, bucket")
        _ = try compare("SELECT city, bucket, COUNT(*) FROM {T} GROUP BY bucket, city ORDER BY city, bucket")
    }

    @Test func decimalRealAndBooleanKeys() throws {
        let amounts = try compare("SELECT amount, typeof(amount), COUNT(*), SUM(id) FROM {T} GROUP BY amount ORDER BY amount")
        #expect(amounts.first?[0] == "NULL")
        #expect(amounts.count > 1000)
        let prices = try compare("SELECT price, typeof(price), COUNT(*) FROM {T} GROUP BY price")
        #expect(prices.count == 6)
        #expect(prices.first == ["NULL", "null", "295"])
        _ = try compare("SELECT flag, price, COUNT(*), SUM(amount) FROM {T} GROUP BY flag, price")
    }

    @Test func manyGroupsInMoreRunsThanOne() throws {
        // A budget of 1 MiB lets a run collect 32 KiB: 20,000 groups take many runs.
        let rows = try compare("SELECT bucket, COUNT(*), SUM(amount), MIN(city) FROM {T} GROUP BY bucket", rows: 40000, buckets: 20000, budget: 1 << 20)
        #expect(rows.count == 20000)
        #expect(rows.first?[0] == "0")
        #expect(rows.first?[1] == "2")
        #expect(rows.first?[3] == "oslo")
        _ = try compare("SELECT id, COUNT(*) FROM {T} GROUP BY id ORDER BY id DESC", rows: 20000, budget: 1 << 20)
    }

    @Test func oneGroupAcrossRuns() throws {
        let rows = try compare("SELECT flag = flag, COUNT(*), SUM(amount), MAX(city) FROM {T} GROUP BY 1", rows: 30000, budget: 1 << 20)
        #expect(rows.count == 1)
        let one = try compare("SELECT bucket, COUNT(*), SUM(amount), TOTAL(price) FROM {T} GROUP BY bucket", rows: 30000, buckets: 1, budget: 1 << 20)
        #expect(one.count == 1)
        #expect(one[0][1] == "30000")
    }

    @Test func anEmptyInputHasNoGroups() throws {
        #expect(try compare("SELECT city, COUNT(*) FROM {T} GROUP BY city", rows: 0) == [])
        #expect(try compare("SELECT COUNT(*) FROM {T}", rows: 0) == [["0"]])
    }

    @Test func havingExpressionsDistinctAndOrderByAnAggregate() throws {
        _ = try compare("SELECT city, COUNT(*) AS n FROM {T} GROUP BY city HAVING COUNT(*) > 600 ORDER BY city")
        _ = try compare("SELECT city, SUM(amount) AS total FROM {T} GROUP BY city ORDER BY total DESC, city")
        _ = try compare("SELECT lower(city), COUNT(*) FROM {T} GROUP BY lower(city) ORDER BY 1")
        _ = try compare("SELECT city COLLATE NOCASE, COUNT(*) FROM {T} GROUP BY city COLLATE NOCASE ORDER BY 1")
        _ = try compare("SELECT DISTINCT city FROM {T}")
        _ = try compare("SELECT DISTINCT city, bucket FROM {T} ORDER BY city, bucket")
        _ = try compare("SELECT city, COUNT(*) FROM {T} WHERE bucket < 10 GROUP BY city")
        _ = try compare("SELECT city, COUNT(*) FROM {T} WHERE city > 'P' GROUP BY city")
        _ = try compare("SELECT city, COUNT(*) FROM {T} GROUP BY city LIMIT 3")
        _ = try compare("SELECT COUNT(*), SUM(amount) FROM {T}")
    }

    @Test func aRealSortIsStillASort() throws {
        // Only grouping may be left to the table; an ORDER BY without GROUP BY stays SQLite's sort.
        let rows = try compare("SELECT id, city FROM {T} ORDER BY city, id DESC")
        #expect(rows.count == 5000)
        _ = try compare("SELECT id, city, price FROM {T} ORDER BY price DESC, id LIMIT 20")
    }

    @Test func theGroupByIsLeftToTheTable() throws {
        let grouped = try run("EXPLAIN QUERY PLAN SELECT city, COUNT(*) FROM input_df GROUP BY city ORDER BY city").map { $0[3] }
        #expect(!grouped.contains { $0.contains("TEMP B-TREE") })
        let expression = try run("EXPLAIN QUERY PLAN SELECT lower(city), COUNT(*) FROM input_df GROUP BY lower(city)").map { $0[3] }
        #expect(expression.contains("USE TEMP B-TREE FOR GROUP BY"))
    }

    @Test func aRunStaysWithinItsLimit() throws {
        let plan = GroupingPlan(keys: [0], descending: [false], payload: [1, 2])
        let limit = SQLiteStreamTable.groupingLimit(memoryBudget: 1 << 20)
        #expect(limit == 32 << 10)
        let grouped = GroupedRows(plan: plan, columns: schema.fields.map(\.type), limit: limit, directory: folder.path)
        for part in input(rows: 50000, buckets: 1) { try grouped.add(part) }
        try grouped.finishInput()
        #expect(grouped.runCount > 10)
        #expect(grouped.largestRun <= limit + limit / 8)
        var count = 0
        var previous: Int64 = -1
        let reader = try grouped.reader()
        while try reader.advance() {
            count += 1
            // Key column 0 is id: every row its own group, in order.
            let id = Int64(littleEndian: UnsafeRawPointer(reader.representative.base).loadUnaligned(fromByteOffset: 1, as: Int64.self))
            #expect(id == previous + 1)
            previous = id
        }
        #expect(count == 50000)
        #expect(try FileManager.default.contentsOfDirectory(atPath: folder.path).isEmpty)
    }

    // MARK: Split GROUP BYs (GroupSplitter): half the groups on a second connection and thread.

    /// The rows a reader returns, in order: each its key values and its payload.
    func rowsRead(_ reader: GroupReader) throws -> [[[UInt8]]] {
        var rows: [[[UInt8]]] = []
        while try reader.advance() { rows.append([Array(reader.representative.bytes), Array(reader.row)]) }
        return rows
    }

    @Test func theTwoHalvesOfASplitAreTheWholeInKeyOrder() throws {
        for (limit, descending) in [(1 << 20, false), (32 << 10, false), (32 << 10, true)] {
            let plan = GroupingPlan(keys: [4, 1], descending: [descending, false], payload: [0, 2])
            let grouped = GroupedRows(plan: plan, columns: schema.fields.map(\.type), limit: limit, directory: folder.path)
            for part in input(rows: 20000, buckets: 30) { try grouped.add(part) }
            try grouped.finishInput()
            let whole = try rowsRead(try grouped.reader())
            let halves = try #require(try grouped.split())
            let first = try rowsRead(halves.0), second = try rowsRead(halves.1)
            #expect(first + second == whole, "limit \(limit), descending \(descending)")
            // About half the rows on each side, and no group on both.
            #expect(first.count > 5000 && second.count > 5000)
            #expect(Set(first.map { $0[0] }).isDisjoint(with: second.map { $0[0] }))
        }
    }

    @Test func aSplitNeedsTwoKeysAndAnIndex() throws {
        let plan = GroupingPlan(keys: [4], descending: [false], payload: [0])
        let one = GroupedRows(plan: plan, columns: schema.fields.map(\.type), limit: 1 << 20, directory: folder.path)
        for part in input(rows: 3000, buckets: 1) { try one.add(part) }
        try one.finishInput()
        #expect(try one.split() == nil)
        // More groups than the index keeps: no split, and the reader still returns every row.
        let many = GroupedRows(plan: plan, columns: schema.fields.map(\.type), limit: 1 << 20, directory: folder.path)
        for part in input(rows: GroupedRows.indexLimit + 10, buckets: GroupedRows.indexLimit + 10) { try many.add(part) }
        try many.finishInput()
        #expect(try many.split() == nil)
        #expect(try rowsRead(try many.reader()).count == GroupedRows.indexLimit + 10)
    }

    @Test func whichQueriesMaySplit() {
        for query in [
            "SELECT city, COUNT(*) FROM input_df GROUP BY city",
            "select city, sum(amount) from input_df where bucket < 3 group by city having count(*) > 2 order by city desc",
            "SELECT city, COUNT(CASE WHEN amount > 5 THEN 1 END), MIN(id) FROM orders GROUP BY city ORDER BY city;",
        ] {
            #expect(GroupSplitter.canSplit(query), "\(query)")
        }
        for query in [
            "SELECT COUNT(*) FROM input_df",
            "SELECT DISTINCT city FROM input_df GROUP BY city, bucket",
            "SELECT city, COUNT(DISTINCT bucket) FROM input_df GROUP BY city",
            "SELECT city, COUNT(*) FROM input_df GROUP BY city LIMIT 3",
            "SELECT city, COUNT(*) FROM input_df GROUP BY city LIMIT 3 OFFSET 1",
            "SELECT city, SUM(COUNT(*)) OVER () FROM input_df GROUP BY city",
            "SELECT city, COUNT(*) FROM input_df GROUP BY city UNION ALL SELECT 'x', 1",
            "SELECT city, (SELECT 1) FROM input_df GROUP BY city",
            "WITH t AS (SELECT * FROM input_df) SELECT city, COUNT(*) FROM t GROUP BY city",
            "EXPLAIN SELECT city, COUNT(*) FROM input_df GROUP BY city",
            "SELECT city, COUNT(*) FROM input_df WHERE city = ${params.city} GROUP BY city",
            "SELECT city, COUNT(*) FROM input_df WHERE city = 'unterminated GROUP BY city",
        ] {
            #expect(!GroupSplitter.canSplit(query), "\(query)")
        }
    }

    /// Runs `query` (with `{T}`) over `rows` rows streamed and loaded, expects the same rows, and
    /// returns the streamed rows and whether the streamed run was split.
    func compareSplit(_ query: String, rows: Int = 40000, buckets: Int = 50) throws -> (rows: [[String]], split: Bool) {
        let streamed = SQLiteProcessor.Choices(), loaded = SQLiteProcessor.Choices()
        let result = try SQLiteProcessor.$observed.withValue(streamed) {
            try run(query.replacingOccurrences(of: "{T}", with: "input_df"), rows: rows, buckets: buckets)
        }
        let expected = try SQLiteProcessor.$observed.withValue(loaded) {
            try run("WITH t AS (SELECT * FROM input_df) " + query.replacingOccurrences(of: "{T}", with: "t"), rows: rows, buckets: buckets)
        }
        #expect(result == expected, "\(query)")
        #expect(loaded.splits.load(ordering: .relaxed) == 0, "the loaded run is the one-thread reference")
        return (result, streamed.splits.load(ordering: .relaxed) == 1)
    }

    @Test func splitGroupBysEqualALoadedTable() throws {
        let full = try compareSplit("""
            SELECT city, bucket, COUNT(*), SUM(amount), AVG(price), COUNT(CASE WHEN amount > 50 THEN 1 END), \
            MIN(id), MAX(id), group_concat(flag, '') FROM {T} GROUP BY city, bucket ORDER BY city, bucket
            """)
        #expect(full.split)
        #expect(full.rows.count == 8 * 50)
        let descending = try compareSplit("SELECT bucket, city, SUM(amount) FROM {T} GROUP BY bucket, city ORDER BY bucket DESC, city")
        #expect(descending.split)
        #expect(descending.rows.first?[0] == "49")
        let having = try compareSplit("SELECT bucket, COUNT(*) FROM {T} WHERE price * 2 > 0 GROUP BY bucket HAVING COUNT(*) % 2 = 0")
        #expect(having.split)
        // A bare column takes a value from its group's rows, which both halves return in the same order.
        _ = try compareSplit("SELECT bucket, id, MAX(amount) FROM {T} GROUP BY bucket")
        _ = try compareSplit("SELECT amount, COUNT(*) FROM {T} GROUP BY amount", buckets: 1)
        // A sort after the grouping keeps the query on one thread.
        let sorted = try compareSplit("SELECT city, COUNT(*) AS n FROM {T} GROUP BY city ORDER BY n DESC, city")
        #expect(!sorted.split)
        #expect(sorted.rows.count == 8)
        let collated = try compareSplit("SELECT city, COUNT(*) FROM {T} GROUP BY city ORDER BY city COLLATE NOCASE, city")
        #expect(!collated.split)
        #expect(collated.rows.count == 8)
        // A LIMIT, and too few rows to be worth a second connection.
        #expect(try !compareSplit("SELECT city, COUNT(*) FROM {T} GROUP BY city LIMIT 100000").split)
        #expect(try !compareSplit("SELECT city, COUNT(*) FROM {T} GROUP BY city", rows: GroupSplitter.defaultMinimumRows - 1).split)
        #expect(try compareSplit("SELECT city, COUNT(*) FROM {T} GROUP BY city", rows: GroupSplitter.defaultMinimumRows).split)
    }

    @Test func aFailureInTheSecondHalfFailsTheStep() throws {
        // abs() of the smallest integer overflows: only for the buckets after the split key.
        let query = "SELECT bucket, CASE WHEN bucket > 40 THEN abs(-9223372036854775807 - 1 + COUNT(*) - COUNT(*)) END FROM input_df GROUP BY bucket"
        #expect(GroupSplitter.canSplit(query))
        let error = try #require(throws: StepError.self) { try self.run(query, rows: 40000) }
        #expect(error.message.contains("integer overflow"))
        // The same failure on one thread.
        let loaded = try #require(throws: StepError.self) {
            try self.run("WITH t AS (SELECT * FROM input_df) " + query.replacingOccurrences(of: "FROM input_df", with: "FROM t"), rows: 40000)
        }
        #expect(loaded.message.contains("integer overflow"))
    }
}
