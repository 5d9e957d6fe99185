import CSQLite3
import OML
import OsirisCore
import OsirisData

/// A query that only picks rows and columns of its streamed input (`SELECT <columns> FROM input
/// WHERE ...`), run without asking SQLite for the values it returns: SQLite evaluates the WHERE of
/// the same query with `1` as its select list, and for each row that passes, the row is taken from
/// the input batch the virtual table's cursor stands on, each value converted exactly as SQLite
/// would hold it (`SQLiteValue`) and then as `SQLiteTypes.appendRow` converts SQLite's values. So the
/// result is the same, while a kept row costs no `xColumn` call, no copy into SQLite and no
/// `sqlite3_column_*` call per value.
///
/// A query qualifies when every result column is a column of the streamed table (SQLite's column
/// metadata says so, which rules out expressions and aggregates), its text has one SELECT and none
/// of GROUP BY, HAVING, ORDER BY, LIMIT, OFFSET, DISTINCT, a window, a compound, WITH or EXPLAIN,
/// and SQLite's plan for the WHERE is one scan of the table and nothing else. While SQLite steps
/// such a plan, a row is returned as soon as it passes, with the cursor still on it.
final class PlainSelect {
    /// The query with `1` as its select list.
    let statement: SQLiteStatement
    /// The result's schema, as `SQLiteTypes.schema` gives it for the query.
    let schema: Schema
    /// The input column of each result column.
    private let columns: [Int]
    private let table: SQLiteStreamTable
    /// Set by `start()`, before the first row is appended.
    private var cursor: SQLiteStreamTable.Cursor!

    private init(statement: SQLiteStatement, schema: Schema, columns: [Int], table: SQLiteStreamTable) {
        self.statement = statement
        self.schema = schema
        self.columns = columns
        self.table = table
    }

    /// The plain select for `query`, prepared as `original` on `database` where `table` streams the
    /// input named `tableName`; nil when the query does not qualify.
    static func prepare(
        _ query: String, original: SQLiteStatement, table: SQLiteStreamTable, tableName: String, database: SQLiteDatabase
    ) -> PlainSelect? {
        guard let from = fromOffset(query) else { return nil }
        let handle = original.statement
        var columns: [Int] = []
        for index in 0..<Int32(original.columnCount) {
            guard let origin = sqlite3_column_origin_name(handle, index), let owner = sqlite3_column_table_name(handle, index),
                sqlite3_column_database_name(handle, index).map({ String(cString: $0) }) == "temp",
                String(cString: owner) == tableName,
                let input = table.schema.fields.firstIndex(where: { $0.name == String(cString: origin) }),
                SQLiteTypes.field(named: "", declared: original.declaredType(Int(index))) != nil
            else { return nil }
            columns.append(input)
        }
        guard !columns.isEmpty else { return nil }
        let rest = String(String.UnicodeScalarView(query.unicodeScalars.dropFirst(from)))
        do throws(StepError) {
            let explain = try database.prepare("EXPLAIN QUERY PLAN SELECT 1 " + rest)
            var plan: [String] = []
            while try explain.step() { plan.append(explain.text(3)) }
            guard plan.count == 1, plan[0].hasPrefix("SCAN "), !plan[0].contains("TEMP B-TREE") else { return nil }
            let statement = try database.prepare("SELECT 1 " + rest)
            SQLiteProcessor.observed?.plainSelects.add(1, ordering: .relaxed)
            return PlainSelect(
                statement: statement, schema: SQLiteTypes.schema(of: original, firstRow: false), columns: columns, table: table)
        } catch {
            return nil
        }
    }

    /// Where the query's FROM starts, in Unicode scalars, when its text qualifies: one SELECT, first,
    /// and none of the clauses that combine, order, limit or drop rows.
    static func fromOffset(_ query: String) -> Int? {
        let tokens = SQLTokenizer.tokenize(query)
        guard !tokens.contains(where: { $0.kind == .unterminated || $0.kind == .parameter }) else { return nil }
        let words = tokens.filter { $0.kind == .word }
        let upper = words.map { $0.value.uppercased() }
        guard upper.first == "SELECT", upper.lazy.filter({ $0 == "SELECT" }).count == 1 else { return nil }
        let refused: Set = [
            "GROUP", "HAVING", "ORDER", "LIMIT", "OFFSET", "DISTINCT", "WINDOW", "OVER", "UNION", "INTERSECT", "EXCEPT",
            "WITH", "EXPLAIN", "VALUES",
        ]
        guard refused.isDisjoint(with: upper), let from = upper.firstIndex(of: "FROM") else { return nil }
        return words[from].offset
    }

    /// Steps the statement to its first row (true when there is one) and finds the cursor the rows
    /// are taken from.
    func start() throws(StepError) -> Bool {
        guard try statement.step() else { return false }
        guard let scan = table.scanCursor else {
            throw StepError(.internalError, "the plain select's scan has no cursor")
        }
        cursor = scan
        return true
    }

    /// Appends the row the cursor stands on (the statement has just returned it) to `builder`.
    func appendRow(to builder: inout BatchBuilder, scales: [Int]) -> Int {
        let views = cursor.views, row = cursor.row
        return builder.columns.withUnsafeMutableBufferPointer { output in
            var bytes = 0
            for index in 0..<output.count {
                bytes += SQLiteTypes.append(SQLiteValue(views[columns[index]], row), to: &output[index], scale: scales[index])
            }
            return bytes
        }
    }
}
