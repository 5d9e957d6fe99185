import CSQLite3
import OsirisCore
import OsirisData
import Synchronization

/// A SQLite connection: the embedded engine behind sqlite.extractor, sqlite.writer and
/// sqlite.processor. Errors come back as step errors, classified (busy and locked are temporary).
// unchecked: the handle is used by the one thread running the step; only `interrupt()` comes from
// another thread, and it and `close()` take `isOpen`'s lock, so it never touches a closed handle.
final class SQLiteDatabase: @unchecked Sendable {
    let handle: OpaquePointer
    let path: String
    private let isOpen = TrackedMutex(true)

    /// Opens `path` (an empty path is a private temporary database that SQLite keeps in memory
    /// until its cache is full, then spills to a temporary file).
    init(path: String, readOnly: Bool = false, create: Bool = false) throws(StepError) {
        _ = SQLiteDatabase.configured
        self.path = path
        var opened: OpaquePointer?
        var flags = readOnly ? SQLITE_OPEN_READONLY : SQLITE_OPEN_READWRITE
        if create && !readOnly { flags |= SQLITE_OPEN_CREATE }
        flags |= SQLITE_OPEN_NOMUTEX
        let result = sqlite3_open_v2(path, &opened, flags, nil)
        guard result == SQLITE_OK, let opened else {
            let message = opened.map { String(cString: sqlite3_errmsg($0)) } ?? "out of memory"
            sqlite3_close(opened)
            let shown = path.isEmpty ? "a temporary database" : "'\(path)'"
            throw StepError(.run, "cannot open SQLite database \(shown): \(message)")
        }
        handle = opened
        sqlite3_busy_timeout(handle, 5000)
        sqlite3_extended_result_codes(handle, 1)
    }

    deinit { close() }

    /// Closes the connection now (it is also closed when released); later calls do nothing.
    func close() {
        isOpen.withLock { isOpen in
            guard isOpen else { return }
            isOpen = false
            sqlite3_close_v2(handle)
        }
    }

    /// SQLite configured once, before its first use, for connections each used by one thread.
    private static let configured: Bool = {
        osiris_sqlite3_configure() == SQLITE_OK
    }()

    /// Runs SQL that returns no rows (several statements allowed).
    func execute(_ sql: String) throws(StepError) {
        var message: UnsafeMutablePointer<CChar>?
        let result = sqlite3_exec(handle, sql, nil, nil, &message)
        if result != SQLITE_OK {
            let text = message.map { String(cString: $0) } ?? String(cString: sqlite3_errmsg(handle))
            sqlite3_free(message)
            throw error(result, text)
        }
    }

    /// Prepares one statement.
    func prepare(_ sql: String) throws(StepError) -> SQLiteStatement {
        var statement: OpaquePointer?
        let result = sqlite3_prepare_v2(handle, sql, -1, &statement, nil)
        guard result == SQLITE_OK, let statement else {
            throw error(result, String(cString: sqlite3_errmsg(handle)))
        }
        return SQLiteStatement(statement: statement, database: self)
    }

    /// Makes a long-running statement return SQLITE_INTERRUPT (from another thread, on cancellation);
    /// does nothing once the connection is closed.
    func interrupt() {
        isOpen.withLock { isOpen in
            if isOpen { sqlite3_interrupt(handle) }
        }
    }

    /// A step error for a SQLite result code.
    func error(_ code: Int32, _ message: String) -> StepError {
        switch code & 0xff {
        case SQLITE_BUSY, SQLITE_LOCKED: return StepError(.temporary, "SQLite database is locked: \(message)")
        case SQLITE_INTERRUPT: return StepError(.cancelled, "interrupted")
        case SQLITE_AUTH, SQLITE_PERM: return StepError(.authentication, message)
        case SQLITE_CANTOPEN: return StepError(.run, "cannot open SQLite database '\(path)': \(message)")
        default: return StepError(.run, message)
        }
    }

    /// A double-quoted SQL identifier.
    static func quote(_ name: String) -> String { "\"" + name.replacingAll("\"", with: "\"\"") + "\"" }
}

/// A prepared statement.
final class SQLiteStatement {
    let statement: OpaquePointer
    unowned let database: SQLiteDatabase

    init(statement: OpaquePointer, database: SQLiteDatabase) {
        self.statement = statement
        self.database = database
    }

    deinit { sqlite3_finalize(statement) }

    /// Steps once: true while there is a row.
    func step() throws(StepError) -> Bool {
        let result = sqlite3_step(statement)
        switch result {
        case SQLITE_ROW: return true
        case SQLITE_DONE: return false
        default: throw database.error(result, String(cString: sqlite3_errmsg(database.handle)))
        }
    }

    var columnCount: Int { Int(sqlite3_column_count(statement)) }

    func columnName(_ index: Int) -> String { String(cString: sqlite3_column_name(statement, Int32(index))) }

    /// The current row's value as text ("" for NULL).
    func text(_ index: Int) -> String {
        sqlite3_column_text(statement, Int32(index)).map { String(cString: $0) } ?? ""
    }

    /// The current row's value as an integer.
    func int(_ index: Int) -> Int { Int(sqlite3_column_int64(statement, Int32(index))) }

    /// Whether the current row's value is NULL.
    func isNull(_ index: Int) -> Bool { sqlite3_column_type(statement, Int32(index)) == SQLITE_NULL }

    func declaredType(_ index: Int) -> String? { sqlite3_column_decltype(statement, Int32(index)).map { String(cString: $0) } }

    /// Runs this INSERT once per row of `batch`, binding its columns in order.
    func insertRows(of batch: RecordBatch) throws(StepError) {
        let columns = batch.columns
        let width = columns.count
        for row in 0..<batch.count {
            for index in 0..<width {
                bind(columns[index], row: row, at: Int32(index + 1))
            }
            _ = try step()
            sqlite3_reset(statement)
        }
    }

    /// An `INSERT INTO table VALUES (?, ...)` for `count` columns.
    static func insertSQL(into table: String, columns count: Int) -> String {
        "INSERT INTO \(table) VALUES (\(Array(repeating: "?", count: max(count, 1)).joined(separator: ", ")))"
    }

    /// Binds one value of a batch column (1-based parameter index); SQLite copies text and blobs.
    @inline(__always)
    func bind(_ column: borrowing Column, row: Int, at index: Int32) {
        if column.isNull(row) {
            sqlite3_bind_null(statement, index)
            return
        }
        switch column.type {
        case .bool: sqlite3_bind_int(statement, index, column.bool(row) ? 1 : 0)
        case .int64: sqlite3_bind_int64(statement, index, column.int64(row))
        case .float64: sqlite3_bind_double(statement, index, column.float64(row))
        case .bytes:
            column.withBytes(row) { bytes in
                _ = sqlite3_bind_blob(statement, index, bytes.baseAddress ?? UnsafeRawPointer(bitPattern: 1), Int32(bytes.count), SQLITE_TRANSIENT_SHIM)
            }
        default:
            column.withBytes(row) { bytes in
                if let base = bytes.baseAddress {
                    _ = sqlite3_bind_text(statement, index, base.assumingMemoryBound(to: CChar.self), Int32(bytes.count), SQLITE_TRANSIENT_SHIM)
                } else {
                    _ = sqlite3_bind_text(statement, index, "", 0, SQLITE_TRANSIENT_SHIM)
                }
            }
        }
    }
}

/// SQLITE_TRANSIENT: SQLite copies the value before the call returns (the C macro is a cast Swift
/// cannot import).
let SQLITE_TRANSIENT_SHIM = unsafeBitCast(-1, to: sqlite3_destructor_type.self)
