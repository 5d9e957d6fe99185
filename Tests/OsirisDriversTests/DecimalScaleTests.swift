import Foundation
import OML
import OsirisCore
import OsirisData
@testable import OsirisDrivers
import Testing

/// Decimals keep their scale through sqlite.processor and the CSV, JSON lines and SQLite writers:
/// `64.00` stays `64.00` although SQLite holds it as the integer 64.
@Suite final class DecimalScaleTests {
    let folder = temporaryFolder()
    deinit { try? FileManager.default.removeItem(at: folder) }

    /// The CSV the tests start from: amounts of scale 2 (one of them a whole number), weights of scale 3.
    let csv = "id,amount,weight\n1,64.00,1.500\n2,650.05,2.250\n3,0.10,0.125\n4,0.20,3.000\n"

    /// The CSV read by filesystem.csv_extractor, as the batches an upstream step would hand out.
    func extracted() throws -> FixedSource {
        let path = folder.appendingPathComponent("in.csv").path
        #expect(FileManager.default.createFile(atPath: path, contents: Data(csv.utf8)))
        let sink = CollectingSink()
        try CSVFileExtractor().extract(
            context("filesystem.csv_extractor", mode: "extract", config: ["path": .string(path)], folder: folder), output: sink)
        return FixedSource(stepID: "read", schema: sink.schema!, batches: sink.batches)
    }

    /// The query's result, as the batches a downstream step would get.
    func processed(_ query: String) throws -> FixedSource {
        let sink = CollectingSink()
        try SQLiteProcessor().process(
            context("sqlite.processor", mode: "transform", config: ["query": .string(query)], folder: folder),
            inputs: [try extracted()], output: sink)
        return FixedSource(stepID: "compute", schema: sink.schema!, batches: sink.batches)
    }

    func text(_ name: String) throws -> String {
        try String(contentsOf: folder.appendingPathComponent(name), encoding: .utf8)
    }

    func writeCSV(_ source: FixedSource) throws -> String {
        let path = folder.appendingPathComponent("out.csv").path
        try CSVFileWriter().write(context("filesystem.csv_writer", mode: "write", config: ["path": .string(path)], folder: folder), input: source)
        return try text("out.csv")
    }

    func writeJSONLines(_ source: FixedSource) throws -> String {
        let path = folder.appendingPathComponent("out.jsonl").path
        try JSONLinesFileWriter().write(
            context("filesystem.jsonl_writer", mode: "write", config: ["path": .string(path)], folder: folder), input: source)
        return try text("out.jsonl")
    }

    @Test func theReaderInfersTheScale() throws {
        #expect(try extracted().schema().fields == [
            Field(name: "id", type: .int64), Field(name: "amount", type: .decimal, precision: 5, scale: 2),
            Field(name: "weight", type: .decimal, precision: 4, scale: 3),
        ])
    }

    @Test func aFilterKeepsEveryDigit() throws {
        let query = "SELECT id, amount, weight FROM input_df WHERE amount = 64 OR amount > 100"
        #expect(try processed(query).schema().fields == [
            Field(name: "id", type: .int64), Field(name: "amount", type: .decimal, precision: 5, scale: 2),
            Field(name: "weight", type: .decimal, precision: 4, scale: 3),
        ])
        #expect(try writeCSV(processed(query)) == "id,amount,weight\n1,64.00,1.500\n2,650.05,2.250\n")
        #expect(try writeJSONLines(processed(query)) == """
            {"id":1,"amount":64.00,"weight":1.500}
            {"id":2,"amount":650.05,"weight":2.250}

            """)
    }

    @Test func aLoadedInputKeepsEveryDigitToo() throws {
        // Read twice, so the input is loaded into a table rather than streamed.
        let query = "SELECT a.id, a.amount, b.weight FROM input_df a JOIN input_df b ON a.id = b.id WHERE a.id <= 2 ORDER BY a.id"
        #expect(try writeCSV(processed(query)) == "id,amount,weight\n1,64.00,1.500\n2,650.05,2.250\n")
    }

    @Test func sumsMinimaAndMaximaKeepTheScale() throws {
        // 0.10 + 0.20 is 0.30000000000000004 in doubles; the sum is written with the column's scale.
        let query = """
            SELECT SUM(amount) AS total, TOTAL(amount) AS also_total, MIN(weight) least, MAX(weight), SUM(weight) AS weights,
                   SUM(amount) FILTER (WHERE id > 2) AS small, AVG(weight) AS mean
            FROM input_df
            """
        let result = try processed(query)
        #expect(try result.schema().fields == [
            Field(name: "total", type: .decimal, precision: 38, scale: 2),
            Field(name: "also_total", type: .decimal, precision: 38, scale: 2),
            Field(name: "least", type: .decimal, precision: 4, scale: 3),
            Field(name: "MAX(weight)", type: .decimal, precision: 4, scale: 3),
            Field(name: "weights", type: .decimal, precision: 38, scale: 3),
            Field(name: "small", type: .decimal, precision: 38, scale: 2),
            Field(name: "mean", type: .float64),
        ])
        #expect(try writeCSV(result) == "total,also_total,least,MAX(weight),weights,small,mean\n714.35,714.35,0.125,3.000,6.875,0.30,1.71875\n")
    }

    @Test func aSumOfWholeNumbersGetsTheScale() throws {
        // 64.00 is the integer 64 in SQLite, and so is a sum of such values.
        let result = try processed("SELECT SUM(amount) AS total FROM input_df WHERE id = 1")
        #expect(try writeCSV(result) == "total\n64.00\n")
        #expect(try writeJSONLines(processed("SELECT SUM(amount) AS total FROM input_df WHERE id = 1")) == "{\"total\":64.00}\n")
    }

    @Test func aCastDeclaresTheScale() throws {
        let query = """
            SELECT CAST(SUM(amount) / 3.0 AS NUMERIC(10,4)) AS third, CAST(MIN(id) AS DECIMAL(6, 1)) tenths
            FROM input_df GROUP BY id = 1 ORDER BY id = 1
            """
        let result = try processed(query)
        #expect(try result.schema().fields == [
            Field(name: "third", type: .decimal, precision: 10, scale: 4), Field(name: "tenths", type: .decimal, precision: 6, scale: 1),
        ])
        #expect(try writeCSV(result) == "third,tenths\n216.7833,2.0\n21.3333,1.0\n")
    }

    @Test func theSQLiteWriterDeclaresTheScaleAndTheExtractorWritesIt() throws {
        let database = folder.appendingPathComponent("t.db").path
        try SQLiteWriter().write(
            context("sqlite.writer", mode: "write", config: ["path": .string(database), "table": "orders"], folder: folder),
            input: try processed("SELECT id, amount, weight FROM input_df WHERE amount = 64 OR amount > 100"))
        let sink = CollectingSink()
        try SQLiteExtractor().extract(
            context("sqlite.extractor", mode: "extract", config: ["path": .string(database), "table": "orders"], folder: folder), output: sink)
        #expect(sink.schema?.fields == [
            Field(name: "id", type: .int64), Field(name: "amount", type: .decimal, precision: 5, scale: 2),
            Field(name: "weight", type: .decimal, precision: 4, scale: 3),
        ])
        #expect(sink.rows == [["1", "64.00", "1.500"], ["2", "650.05", "2.250"]])
        let declared = CollectingSink()
        try SQLiteExtractor().extract(
            context("sqlite.extractor", mode: "extract", config: ["path": .string(database), "query": "SELECT sql FROM sqlite_master"], folder: folder),
            output: declared)
        #expect(declared.rows == [["CREATE TABLE \"orders\" (\"id\" INTEGER, \"amount\" NUMERIC(5,2), \"weight\" NUMERIC(4,3))"]])
    }

    @Test func aDecimalWithoutAScaleKeepsSQLitesForm() throws {
        // No declared scale (a CSV read from a pipe, a NUMERIC column): the shortest form, as before.
        let schema = Schema([Field(name: "amount", type: .decimal)])
        let sink = CollectingSink()
        try SQLiteProcessor().process(
            context("sqlite.processor", mode: "transform", config: ["query": "SELECT amount, SUM(amount) AS s FROM input_df"], folder: folder),
            inputs: [FixedSource(stepID: "d", schema: schema, batches: [batch(schema, [[.text("64.00", .decimal)]])])], output: sink)
        #expect(sink.rows == [["64", "64"]])
        #expect(sink.schema?.fields == [Field(name: "amount", type: .decimal), Field(name: "s", type: .int64)])
    }

    @Test(arguments: [
        ("NUMERIC(10,2)", 10, 2), ("decimal(5, 3)", 5, 3), ("DECIMAL(7)", 7, 0), ("NUMERIC", nil, nil), ("NUMERIC(2,3)", nil, nil),
        ("NUMERIC(x,1)", nil, nil),
    ] as [(String, Int?, Int?)])
    func declaredPrecisionAndScale(declared: String, precision: Int?, scale: Int?) {
        let field = SQLiteTypes.field(named: "n", declared: declared)
        #expect(field == Field(name: "n", type: .decimal, precision: precision, scale: scale))
    }

    @Test func declaredTypesCarryTheScale() {
        #expect(SQLiteTypes.declaredType(Field(name: "a", type: .decimal, precision: 12, scale: 4)) == "NUMERIC(12,4)")
        #expect(SQLiteTypes.declaredType(Field(name: "a", type: .decimal, scale: 4)) == "NUMERIC")
        #expect(SQLiteTypes.declaredType(Field(name: "a", type: .int64, precision: 12, scale: 4)) == "INTEGER")
    }

    @Test(arguments: [
        ("SELECT SUM(amount), t.amount, MAX(DISTINCT t.\"amount\") AS m, CAST(x AS NUMERIC(8,1)) y, COUNT(*) FROM t", [0: (38, 2), 2: (5, 2), 3: (8, 1)]),
        ("SELECT DISTINCT min(amount) FROM t WHERE amount > (SELECT SUM(amount) FROM t)", [0: (5, 2)]),
        ("SELECT sum(amount) FILTER (WHERE amount > 1) AS big, city FROM t GROUP BY city", [0: (38, 2)]),
        ("SELECT amount + 1, SUM(amount) + 1, SUM(amount * 2), SUM(weight) FROM t", [:]),
        ("SELECT *, SUM(amount) FROM t", [:]),
        ("SELECT t.*, SUM(amount) FROM t", [:]),
        ("SELECT SUM(amount) FROM t UNION ALL SELECT 1", [:]),
        ("WITH x AS (SELECT 1) SELECT SUM(amount) FROM t", [:]),
    ] as [(String, [Int: (Int, Int)])])
    func resultColumnsWithAScale(query: String, expected: [Int: (Int, Int)]) {
        let inputs = [Schema([Field(name: "amount", type: .decimal, precision: 5, scale: 2), Field(name: "weight", type: .decimal)])]
        let fields = SQLiteResultTypes.decimalFields(of: query, inputs: inputs)
        #expect(fields.mapValues { [$0.precision, $0.scale] } == expected.mapValues { [$0.0, $0.1] as [Int?] })
        #expect(fields.values.allSatisfy { $0.type == .decimal })
    }
}
