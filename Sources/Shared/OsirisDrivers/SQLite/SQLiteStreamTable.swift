import CSQLite3
#if canImport(Glibc)
import Glibc
#endif
import OML
import OsirisCore
import OsirisData

/// A processor input exposed to SQLite as a virtual table that reads the input's batches as SQLite
/// scans it, instead of loading them into a table first.
///
/// An input can be read only once, so this is used only when the query reads the input exactly once
/// (see `SQLiteStreamTable.canStream`); a second scan is reported as an error rather than returning
/// wrong results. Values are returned the way a table with the same declared types would hold them:
/// decimals as numbers, so `total > 100` compares numbers.
///
/// For a GROUP BY on plain columns of the input, with no constraint on the scan, the
/// table takes over SQLite's sort: it reads the whole input first and returns the rows grouped and
/// in key order (`GroupingPlan`, `GroupedRows`), so SQLite aggregates in one pass. With a `splitter`,
/// the groups may be divided between this connection and a second one on another thread (see
/// `GroupSplitter`); that connection's table returns its half (`prepared`) without reading input.
// unchecked: SQLite calls the virtual table's callbacks on the thread that steps the statement; a
// table is created on that thread, or handed over whole to the thread of a second half before that
// thread starts. `scanned`, `failure`, `plans`, `prepared` and `secondHalf` are never touched from
// two threads.
final class SQLiteStreamTable: @unchecked Sendable {
    let source: any BatchSource
    let schema: Schema
    let cancellation: CancellationToken
    let progress: any ProgressReporter
    /// Where grouped scans write their runs, and how much memory a run may use; grouping is off
    /// when `groupingLimit` is 0.
    let temporaryDirectory: String
    let groupingLimit: Int
    var scanned = false
    var failure: StepError?
    /// The grouping plans offered to SQLite; `idxNum` n > 0 names plans[n - 1].
    var plans: [GroupingPlan] = []
    /// How a grouped scan may hand half of its groups to a second connection; nil: it never does.
    var splitter: GroupSplitter?
    /// The second half a grouped scan started, which the processor reads after this connection's rows.
    var secondHalf: SecondHalf?
    /// The table of a second half: the groups it returns, read for `plan`, instead of the input.
    var prepared: (plan: GroupingPlan, reader: GroupReader)?
    /// The cursor of the scan, once SQLite started it: where a `PlainSelect` takes its rows from.
    weak var scanCursor: Cursor?

    init(
        source: any BatchSource, schema: Schema, cancellation: CancellationToken, progress: any ProgressReporter,
        temporaryDirectory: String = "", groupingLimit: Int = 0
    ) {
        self.source = source
        self.schema = schema
        self.cancellation = cancellation
        self.progress = progress
        self.temporaryDirectory = temporaryDirectory
        self.groupingLimit = groupingLimit
    }

    /// The memory a grouped scan may collect before writing a run: a thirty-second of the step's
    /// budget (buffers may hold twice what they use, and SQLite and the batches in flight need the
    /// rest), between 32 KiB and 8 MiB.
    static func groupingLimit(memoryBudget: Int) -> Int {
        min(max(memoryBudget / 32, 32 << 10), 8 << 20)
    }

    /// Whether `query` can stream `names` (the input's table, view and alias names): it reads them
    /// exactly once in all, has no WITH clause (a common table expression may be expanded more than
    /// once), and is a single statement.
    static func canStream(_ query: String, names: Set<String>) -> Bool {
        guard SQLAnalysis.readOnlyProblem(query) == nil else { return false }
        let words = SQLTokenizer.tokenize(query).filter { $0.kind == .word }.map { $0.value.uppercased() }
        if words.contains("WITH") || words.contains("RECURSIVE") { return false }
        let references = SQLAnalysis.tableReferences(query)
        let lowered = Set(names.map { $0.lowercased() })
        return references.count == 1 && lowered.contains(references[0].name.lowercased()) && references[0].schema == nil
    }

    /// The `CREATE TABLE` text SQLite's `sqlite3_declare_vtab` wants.
    var declaration: String { "CREATE TABLE x(\(SQLiteTypes.columnDefinitions(schema)))" }

    /// Registers the module on a connection; the table's arguments name an entry of `tables`.
    static func register(on database: SQLiteDatabase, tables: [SQLiteStreamTable]) throws(StepError) {
        let registry = Unmanaged.passRetained(Registry(tables: tables)).toOpaque()
        let result = sqlite3_create_module_v2(database.handle, "osiris_input", module, registry) { pointer in
            Unmanaged<Registry>.fromOpaque(pointer!).release()
        }
        if result != SQLITE_OK { throw database.error(result, "cannot register the input module") }
    }

    final class Registry {
        let tables: [SQLiteStreamTable]
        init(tables: [SQLiteStreamTable]) { self.tables = tables }
    }

    /// One scan's position: the current batch and row.
    final class Cursor {
        let table: SQLiteStreamTable
        /// The current batch, kept alive while `views` point into it.
        var batch: RecordBatch? {
            didSet {
                guard let batch else { return }
                for (index, column) in batch.columns.enumerated() { views[index] = column.unsafeView }
            }
        }
        /// Pointer views of the current batch's columns, read by `xColumn` without reference counting.
        let views: UnsafeMutablePointer<UnsafeColumnView>
        var row = 0
        var rowid: Int64 = 0
        var atEnd = false
        /// The rows of a grouped scan, read whole in `xFilter`.
        var grouped: GroupReader? {
            didSet { groupedReference = grouped.map { Unmanaged.passUnretained($0) } }
        }
        /// `grouped` without reference counting, for `xColumn`; `grouped` keeps it alive.
        var groupedReference: Unmanaged<GroupReader>?

        init(table: SQLiteStreamTable) {
            self.table = table
            views = .allocate(capacity: max(table.schema.fields.count, 1))
        }

        deinit { views.deallocate() }

        /// Reads the whole input into `grouped`, ready to return its first row; the table of a
        /// second half takes the groups prepared for it instead.
        func group(_ plan: GroupingPlan) -> Bool {
            do throws(StepError) {
                if let prepared = table.prepared {
                    table.prepared = nil
                    guard prepared.plan == plan else {
                        throw StepError(.internalError, "the second half of a split GROUP BY was planned differently from the first")
                    }
                    grouped = prepared.reader
                } else {
                    let rows = GroupedRows(
                        plan: plan, columns: table.schema.fields.map(\.type), limit: table.groupingLimit,
                        directory: table.temporaryDirectory)
                    while true {
                        try table.cancellation.check()
                        guard let next = try table.source.next() else { break }
                        table.progress.read(rows: next.count, bytes: next.dataByteCount)
                        try rows.add(next)
                    }
                    try rows.finishInput()
                    if let splitter = table.splitter {
                        grouped = try splitter.start(rows, plan: plan, for: table)
                    } else {
                        grouped = try rows.reader()
                    }
                }
            } catch {
                table.failure = error
                return false
            }
            rowid = 0
            return advance()
        }

        /// Moves to the next row, fetching the next batch when the current one is used up.
        func advance() -> Bool {
            row += 1
            rowid += 1
            if let groupedReference {
                do throws(StepError) {
                    let advanced = groupedReference._withUnsafeGuaranteedRef { rows in
                        Result { () throws(StepError) in try rows.advance() }
                    }
                    atEnd = try !advanced.get()
                    return true
                } catch {
                    table.failure = error
                    return false
                }
            }
            while batch == nil || row >= batch!.count {
                do throws(StepError) {
                    try table.cancellation.check()
                    guard let next = try table.source.next() else {
                        atEnd = true
                        batch = nil
                        return true
                    }
                    table.progress.read(rows: next.count, bytes: next.dataByteCount)
                    batch = next
                    row = 0
                } catch {
                    table.failure = error
                    return false
                }
            }
            return true
        }
    }
}

private func table(_ vtab: UnsafeMutablePointer<sqlite3_vtab>?) -> SQLiteStreamTable {
    let wrapper = UnsafeMutableRawPointer(vtab!).assumingMemoryBound(to: osiris_vtab.self)
    return Unmanaged<SQLiteStreamTable>.fromOpaque(wrapper.pointee.owner).takeUnretainedValue()
}

private func cursor(_ pointer: UnsafeMutablePointer<sqlite3_vtab_cursor>?) -> SQLiteStreamTable.Cursor {
    let wrapper = UnsafeMutableRawPointer(pointer!).assumingMemoryBound(to: osiris_vtab_cursor.self)
    return Unmanaged<SQLiteStreamTable.Cursor>.fromOpaque(wrapper.pointee.owner).takeUnretainedValue()
}

/// Runs `body` on the cursor behind `pointer` without counting a reference: SQLite calls xNext, xEof
/// and xColumn for every row, and the cursor's wrapper keeps it alive until xClose.
@inline(__always)
private func withCursor<Result>(
    _ pointer: UnsafeMutablePointer<sqlite3_vtab_cursor>?, _ body: (SQLiteStreamTable.Cursor) -> Result
) -> Result {
    let wrapper = UnsafeMutableRawPointer(pointer!).assumingMemoryBound(to: osiris_vtab_cursor.self)
    return Unmanaged<SQLiteStreamTable.Cursor>.fromOpaque(wrapper.pointee.owner)._withUnsafeGuaranteedRef(body)
}

/// A copy of `text` in memory SQLite owns (it frees error messages with sqlite3_free).
private func sqliteString(_ text: String) -> UnsafeMutablePointer<CChar>? {
    let bytes = Array(text.utf8CString)
    guard let memory = sqlite3_malloc64(UInt64(bytes.count)) else { return nil }
    let pointer = memory.assumingMemoryBound(to: CChar.self)
    bytes.withUnsafeBufferPointer { pointer.update(from: $0.baseAddress!, count: bytes.count) }
    return pointer
}

private func setError(_ vtab: UnsafeMutablePointer<sqlite3_vtab>?, _ message: String) {
    sqlite3_free(vtab?.pointee.zErrMsg)
    vtab?.pointee.zErrMsg = sqliteString(message)
}

private let connect: @convention(c) (
    OpaquePointer?, UnsafeMutableRawPointer?, Int32, UnsafePointer<UnsafePointer<CChar>?>?,
    UnsafeMutablePointer<UnsafeMutablePointer<sqlite3_vtab>?>?, UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?
) -> Int32 = { database, auxiliary, count, arguments, output, error in
    let registry = Unmanaged<SQLiteStreamTable.Registry>.fromOpaque(auxiliary!).takeUnretainedValue()
    // Arguments: module name, database name, table name, then ours: the input's index.
    guard count >= 4, let text = arguments?[3], let index = Int(String(cString: text)), index < registry.tables.count else {
        error?.pointee = sqliteString("osiris_input needs the input's index")
        return SQLITE_ERROR
    }
    let table = registry.tables[index]
    let result = sqlite3_declare_vtab(database, table.declaration)
    if result != SQLITE_OK { return result }
    _ = osiris_sqlite3_vtab_innocuous(database)
    let wrapper = UnsafeMutablePointer<osiris_vtab>.allocate(capacity: 1)
    wrapper.initialize(to: osiris_vtab(base: sqlite3_vtab(), owner: Unmanaged.passRetained(table).toOpaque()))
    output?.pointee = UnsafeMutableRawPointer(wrapper).assumingMemoryBound(to: sqlite3_vtab.self)
    return SQLITE_OK
}

private let disconnect: @convention(c) (UnsafeMutablePointer<sqlite3_vtab>?) -> Int32 = { vtab in
    let wrapper = UnsafeMutableRawPointer(vtab!).assumingMemoryBound(to: osiris_vtab.self)
    Unmanaged<SQLiteStreamTable>.fromOpaque(wrapper.pointee.owner).release()
    sqlite3_free(wrapper.pointee.base.zErrMsg)
    wrapper.deinitialize(count: 1)
    wrapper.deallocate()
    return SQLITE_OK
}

/// The module's callbacks, allocated once and never freed: SQLite keeps a pointer to them.
// unchecked: initialised once (a lazy global, so thread-safe) and never written again; SQLite only reads it.
nonisolated(unsafe) private let module: UnsafeMutablePointer<sqlite3_module> = {
    var module = sqlite3_module()
    module.iVersion = 0
    module.xCreate = connect
    module.xConnect = connect
    module.xBestIndex = { vtab, info in
        // A full scan, once; SQLite evaluates every condition itself. When SQLite only needs the
        // rows grouped (a GROUP BY on plain columns), the scan returns them grouped.
        guard let info else { return SQLITE_OK }
        info.pointee.estimatedCost = 1e9
        info.pointee.estimatedRows = 1_000_000_000
        let streamed = table(vtab)
        if streamed.groupingLimit > 0, let plan = GroupingPlan.choose(info, columns: streamed.schema.fields.count) {
            if let known = streamed.plans.firstIndex(of: plan) {
                info.pointee.idxNum = Int32(known + 1)
            } else {
                streamed.plans.append(plan)
                info.pointee.idxNum = Int32(streamed.plans.count)
            }
            info.pointee.orderByConsumed = 1
        }
        return SQLITE_OK
    }
    module.xDisconnect = disconnect
    module.xDestroy = disconnect
    module.xOpen = { vtab, output in
        let scan = SQLiteStreamTable.Cursor(table: table(vtab))
        let wrapper = UnsafeMutablePointer<osiris_vtab_cursor>.allocate(capacity: 1)
        wrapper.initialize(to: osiris_vtab_cursor(base: sqlite3_vtab_cursor(), owner: Unmanaged.passRetained(scan).toOpaque()))
        output?.pointee = UnsafeMutableRawPointer(wrapper).assumingMemoryBound(to: sqlite3_vtab_cursor.self)
        return SQLITE_OK
    }
    module.xClose = { pointer in
        let wrapper = UnsafeMutableRawPointer(pointer!).assumingMemoryBound(to: osiris_vtab_cursor.self)
        Unmanaged<SQLiteStreamTable.Cursor>.fromOpaque(wrapper.pointee.owner).release()
        wrapper.deinitialize(count: 1)
        wrapper.deallocate()
        return SQLITE_OK
    }
    module.xFilter = { pointer, plan, _, _, _ in
        let scan = cursor(pointer)
        guard !scan.table.scanned else {
            setError(pointer?.pointee.pVtab, "the query reads input '\(scan.table.source.stepID)' twice; this cannot stream")
            return SQLITE_ERROR
        }
        scan.table.scanned = true
        scan.table.scanCursor = scan
        scan.row = -1
        scan.rowid = 0
        let planIndex = Int(plan) - 1
        let started = scan.table.plans.indices.contains(planIndex) ? scan.group(scan.table.plans[planIndex]) : scan.advance()
        guard started else {
            setError(pointer?.pointee.pVtab, scan.table.failure?.message ?? "input failed")
            return SQLITE_ERROR
        }
        return SQLITE_OK
    }
    module.xNext = { pointer in
        guard withCursor(pointer, { $0.advance() }) else {
            setError(pointer?.pointee.pVtab, cursor(pointer).table.failure?.message ?? "input failed")
            return SQLITE_ERROR
        }
        return SQLITE_OK
    }
    module.xEof = { pointer in withCursor(pointer) { $0.atEnd } ? 1 : 0 }
    module.xRowid = { pointer, output in
        output?.pointee = cursor(pointer).rowid
        return SQLITE_OK
    }
    module.xColumn = { pointer, context, index in
        withCursor(pointer) { scan in
            if let grouped = scan.groupedReference {
                grouped._withUnsafeGuaranteedRef { $0.result(context, column: Int(index)) }
                return
            }
            guard scan.batch != nil else {
                sqlite3_result_null(context)
                return
            }
            SQLiteValue(scan.views[Int(index)], scan.row).result(context)
        }
        return SQLITE_OK
    }
    let pointer = UnsafeMutablePointer<sqlite3_module>.allocate(capacity: 1)
    pointer.initialize(to: module)
    return pointer
}()

/// One value as SQLite holds it: its storage class and content (text and blobs borrowed).
enum SQLiteValue {
    case null
    case integer(Int64)
    case real(Double)
    case text(UnsafeRawBufferPointer)
    case blob(UnsafeRawBufferPointer)

    /// The value a streamed input's virtual table returns to SQLite for `row` of `column`: what a
    /// table with the same declared types would hold. Booleans are 0 and 1, a NaN is NULL (as
    /// `sqlite3_result_double` makes it), a decimal is what NUMERIC affinity makes of its text
    /// (`numericValue`), and a blob without bytes is NULL (as `sqlite3_result_blob` of no pointer).
    @inline(__always)
    init(_ column: UnsafeColumnView, _ row: Int) {
        if column.isNull(row) {
            self = .null
            return
        }
        switch column.type {
        case .bool: self = .integer(column.bool(row) ? 1 : 0)
        case .int64: self = .integer(column.int64(row))
        case .float64:
            let value = column.float64(row)
            self = value.isNaN ? .null : .real(value)
        case .bytes:
            let bytes = column.bytes(row)
            self = bytes.baseAddress == nil ? .null : .blob(bytes)
        case .decimal:
            let bytes = column.bytes(row)
            switch numericValue(bytes) {
            case .integer(let value): self = .integer(value)
            case .real(let value): self = .real(value)
            case .text: self = .text(bytes)
            }
        default: self = .text(column.bytes(row))
        }
    }
}

extension SQLiteValue {
    /// Returns the value to SQLite as a function's or column's result, copied.
    @inline(__always)
    func result(_ context: OpaquePointer?) {
        switch self {
        case .null: sqlite3_result_null(context)
        case .integer(let value): sqlite3_result_int64(context, value)
        case .real(let value): sqlite3_result_double(context, value)
        case .blob(let bytes): sqlite3_result_blob(context, bytes.baseAddress, Int32(bytes.count), SQLITE_TRANSIENT_SHIM)
        case .text(let bytes):
            if let base = bytes.baseAddress {
                sqlite3_result_text(context, base.assumingMemoryBound(to: CChar.self), Int32(bytes.count), SQLITE_TRANSIENT_SHIM)
            } else {
                sqlite3_result_text(context, "", 0, SQLITE_TRANSIENT_SHIM)
            }
        }
    }
}

/// The value NUMERIC affinity makes of decimal text.
enum NumericValue {
    case integer(Int64)
    case real(Double)
    /// The text is no number and stays text.
    case text
}

/// What NUMERIC affinity makes of decimal text in a table: an integer when the value is one exactly,
/// else a real; text that is no number stays text.
func numericValue(_ bytes: UnsafeRawBufferPointer) -> NumericValue {
    var integer: Int64 = 0
    var isInteger = bytes.count > 0 && bytes.count < 19
    var index = 0
    var negative = false
    if isInteger, bytes[0] == UInt8(ascii: "-") {
        negative = true
        index = 1
        isInteger = bytes.count > 1
    }
    while isInteger, index < bytes.count {
        let digit = bytes[index] &- UInt8(ascii: "0")
        if digit > 9 { isInteger = false; break }
        integer = integer * 10 + Int64(digit)
        index += 1
    }
    if isInteger { return .integer(negative ? -integer : integer) }
    let number: Double? = fastDecimal(bytes) ?? withUnsafeTemporaryAllocation(of: CChar.self, capacity: bytes.count + 1) { buffer in
        buffer.baseAddress!.withMemoryRebound(to: UInt8.self, capacity: bytes.count + 1) { target in
            if let base = bytes.baseAddress { target.update(from: base.assumingMemoryBound(to: UInt8.self), count: bytes.count) }
            target[bytes.count] = 0
        }
        var end: UnsafeMutablePointer<CChar>?
        let value = strtod(buffer.baseAddress!, &end)
        return end == buffer.baseAddress! + bytes.count && bytes.count > 0 ? value : nil
    }
    guard let number else { return .text }
    return number.rounded() == number && abs(number) < 9.0e18 ? .integer(Int64(number)) : .real(number)
}

/// Powers of ten that doubles hold exactly.
private let exactPowersOfTen: [Double] = (0...22).map { exponent in
    var value = 1.0
    for _ in 0..<exponent { value *= 10 }
    return value
}

/// `-?digits.digits` with at most 15 significant digits, as a double: the digits form an integer
/// below 2^53 and the scale a power of ten that doubles hold exactly, so one division gives the
/// correctly rounded value, the same as strtod, without strtod's cost. Nil for anything else.
private func fastDecimal(_ bytes: UnsafeRawBufferPointer) -> Double? {
    var index = 0
    var negative = false
    if index < bytes.count, bytes[index] == UInt8(ascii: "-") {
        negative = true
        index = 1
    }
    var mantissa: Int64 = 0
    var digits = 0
    var scale = -1
    while index < bytes.count {
        let byte = bytes[index]
        if byte == UInt8(ascii: "."), scale < 0 {
            scale = 0
        } else {
            let digit = byte &- UInt8(ascii: "0")
            guard digit <= 9 else { return nil }
            mantissa = mantissa * 10 + Int64(digit)
            digits += 1
            if scale >= 0 { scale += 1 }
            if digits > 15 { return nil }
        }
        index += 1
    }
    guard digits > 0, scale > 0 else { return nil }
    let value = Double(mantissa) / exactPowersOfTen[scale]
    return negative ? -value : value
}
