import CSQLite3
import OML
import OsirisCore
import OsirisData

/// Runs a grouped query on two cores. Once a grouped scan has read its input (`GroupedRows`), SQLite
/// aggregates the groups on one thread, and for a query with several aggregates that takes longer
/// than reading the input did. When every result row comes from one group and the rows come out in
/// the groups' order, the groups can be divided at a key: this connection aggregates the groups
/// before it while a second connection, on a thread of its own, runs the same query over the rest
/// (`SecondHalf`); its rows follow this connection's, so the result is the same, row for row.
///
/// A query qualifies when `canSplit` accepts its text and SQLite's plan for it on the second
/// connection has no sort of its own (no `TEMP B-TREE`, so the rows come out in the groups' order)
/// and takes the same grouping plan. Anything else runs on one thread as before.
struct GroupSplitter {
    /// The query, run again on the second connection.
    let query: String
    /// The fewest input rows worth a second connection and thread.
    let minimumRows: Int
    /// Opens a connection on which `table` (a table of the same input, returning prepared groups)
    /// has every name the query may use.
    let open: (SQLiteStreamTable) throws(StepError) -> SQLiteDatabase

    /// The fewest input rows worth splitting by default: below it the second connection's set-up
    /// (about a millisecond) is a large part of what it saves.
    static let defaultMinimumRows = 1 << 15

    /// Whether the text of `query` lets every result row come from one group: one SELECT with a
    /// GROUP BY, and no compound, window, DISTINCT, LIMIT or OFFSET (each of which combines or
    /// drops rows across groups), nor a WITH or EXPLAIN. Conservative: any of these words, even
    /// where it would be harmless, keeps the query on one thread.
    static func canSplit(_ query: String) -> Bool {
        let tokens = SQLTokenizer.tokenize(query)
        guard !tokens.contains(where: { $0.kind == .unterminated || $0.kind == .parameter }) else { return false }
        let words = tokens.filter { $0.kind == .word }.map { $0.value.uppercased() }
        guard words.first == "SELECT", words.lazy.filter({ $0 == "SELECT" }).count == 1 else { return false }
        let refused: Set = ["UNION", "INTERSECT", "EXCEPT", "LIMIT", "OFFSET", "OVER", "WINDOW", "DISTINCT", "WITH", "EXPLAIN"]
        guard refused.isDisjoint(with: words) else { return false }
        return zip(words, words.dropFirst()).contains { $0 == "GROUP" && $1 == "BY" }
    }

    /// Starts the second half of `rows` when the query and the rows allow it, and returns the reader
    /// for this connection: the first half then, all the groups otherwise. A second half that
    /// cannot be set up is no error: this connection then reads every group.
    func start(_ rows: GroupedRows, plan: GroupingPlan, for table: SQLiteStreamTable) throws(StepError) -> GroupReader {
        guard rows.rowCount >= minimumRows, let (first, second) = try rows.split() else { return try rows.reader() }
        guard let half = SecondHalf.start(query: query, plan: plan, reader: second, like: table, open: open) else {
            return try rows.reader()
        }
        table.secondHalf = half
        SQLiteProcessor.observed?.splits.add(1, ordering: .relaxed)
        return first
    }
}

/// The second half of a split GROUP BY: the query on a connection of its own over the groups from
/// the split key on, stepped on a thread of its own. Its rows wait in a temporary table of that
/// connection, with their values exactly as SQLite returned them, until the first half's are out.
final class SecondHalf {
    private let database: SQLiteDatabase
    private let cancellation: CancellationToken
    private let cancelKey: Int
    private var work: BackgroundWork<StepError?>?

    private init(database: SQLiteDatabase, cancellation: CancellationToken, cancelKey: Int, work: BackgroundWork<StepError?>) {
        self.database = database
        self.cancellation = cancellation
        self.cancelKey = cancelKey
        self.work = work
    }

    deinit { stop() }

    /// Opens the second connection, checks its plan and starts its thread; nil when the query's plan
    /// there sorts, takes another grouping plan, or anything fails to set up.
    static func start(
        query: String, plan: GroupingPlan, reader: GroupReader, like first: SQLiteStreamTable,
        open: (SQLiteStreamTable) throws(StepError) -> SQLiteDatabase
    ) -> SecondHalf? {
        let table = SQLiteStreamTable(
            source: first.source, schema: first.schema, cancellation: first.cancellation, progress: first.progress,
            temporaryDirectory: first.temporaryDirectory, groupingLimit: first.groupingLimit)
        do throws(StepError) {
            let database = try open(table)
            let explain = try database.prepare("EXPLAIN QUERY PLAN " + query)
            while try explain.step() {
                if explain.text(3).contains("TEMP B-TREE") { return nil }
            }
            let statement = try database.prepare(query)
            guard table.plans.contains(plan) else { return nil }
            table.prepared = (plan, reader)
            let width = statement.columnCount
            try database.execute(
                "CREATE TEMP TABLE osiris_second_half (\((1...max(width, 1)).map { "c\($0)" }.joined(separator: ", ")))")
            let insert = try database.prepare(SQLiteStatement.insertSQL(into: "temp.osiris_second_half", columns: width))
            let cancelKey = first.cancellation.onCancel { database.interrupt() }
            let work = BackgroundWork<StepError?>.start {
                do throws(StepError) {
                    try database.execute("BEGIN")
                    while try statement.step() {
                        for column in 0..<Int32(width) {
                            sqlite3_bind_value(insert.statement, column + 1, sqlite3_column_value(statement.statement, column))
                        }
                        _ = try insert.step()
                        sqlite3_reset(insert.statement)
                    }
                    try database.execute("COMMIT")
                    return nil
                } catch {
                    return error
                }
            }
            guard let work else {
                first.cancellation.remove(cancelKey)
                return nil
            }
            return SecondHalf(database: database, cancellation: first.cancellation, cancelKey: cancelKey, work: work)
        } catch {
            return nil
        }
    }

    /// Waits for the second half and returns a statement over its rows, in order, stepped to the
    /// first (true when there is one); the second half's error if it failed; nil once done.
    func finish() throws(StepError) -> (SQLiteStatement, Bool)? {
        guard let work else { return nil }
        let failure = work.join()
        self.work = nil
        cancellation.remove(cancelKey)
        try cancellation.check()
        if let failure { throw failure }
        let rows = try database.prepare("SELECT * FROM temp.osiris_second_half ORDER BY rowid")
        return (rows, try rows.step())
    }

    /// Interrupts the second half, if it still runs, and waits for its thread: the first half
    /// failed or was cancelled.
    func stop() {
        guard let work else { return }
        database.interrupt()
        _ = work.join()
        self.work = nil
        cancellation.remove(cancelKey)
    }
}
