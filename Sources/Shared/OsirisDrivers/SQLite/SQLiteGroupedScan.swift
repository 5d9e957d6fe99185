import CSQLite3
#if canImport(Glibc)
import Glibc
#endif
import OsirisCore
import OsirisData

/// What a streamed input's scan delivers when SQLite lets the virtual table take over a GROUP BY:
/// the columns that form the key, in SQLite's `aOrderBy` order with their
/// directions, and the other columns the query uses.
///
/// SQLite 3.40 has no hash aggregate: without this it sorts every row. With `orderByConsumed` set,
/// it aggregates the rows in the order the table returns them, so the table must return them with
/// the rows of each group next to each other. `sqlite3_vtab_distinct` says that grouping is all the
/// GROUP BY needs (1), but when the query's ORDER BY is the GROUP BY, SQLite 3.40 also drops its
/// ORDER BY sorter once the table has consumed the terms (`WHERE_SORTBYGROUP` in `wherePathSolver`),
/// so the groups are returned in the key order as well: that satisfies every value it can return.
struct GroupingPlan: Equatable {
    /// The key columns, in the order of SQLite's `aOrderBy`.
    var keys: [Int]
    /// Whether each key column is sorted descending.
    var descending: [Bool]
    /// The other columns the query reads, ascending.
    var payload: [Int]

    /// The plan for SQLite's `info`, or nil when the scan must stay a plain scan: a constraint, no
    /// ORDER BY terms, anything but a GROUP BY (`sqlite3_vtab_distinct` 0, an ORDER BY that needs
    /// a real sort of the rows; 2 or 3, a DISTINCT), or a term that is not a column of the table.
    /// SQLite passes only plain column terms under the column's own collation (BINARY here); a
    /// GROUP BY on an expression or with another collation arrives with no terms at all.
    static func choose(_ info: UnsafeMutablePointer<sqlite3_index_info>, columns: Int) -> GroupingPlan? {
        let index = info.pointee
        guard index.nConstraint == 0, index.nOrderBy > 0, let terms = index.aOrderBy else { return nil }
        let distinct = sqlite3_vtab_distinct(info)
        // 1: a GROUP BY. A DISTINCT (2, 3) is left to SQLite, whose ephemeral table keeps only the
        // distinct rows and returns them in the order first seen, which a query may rely on.
        guard distinct == 1 else { return nil }
        var keys: [Int] = []
        var descending: [Bool] = []
        for term in 0..<Int(index.nOrderBy) {
            let column = Int(terms[term].iColumn)
            guard column >= 0, column < columns else { return nil }
            keys.append(column)
            descending.append(terms[term].desc != 0)
        }
        let used = index.colUsed
        let payload = (0..<columns).filter { column in
            !keys.contains(column) && used & (1 << UInt64(min(column, 63))) != 0
        }
        return GroupingPlan(keys: keys, descending: descending, payload: payload)
    }
}

/// The values of one row of a streamed input as SQLite sees them, encoded: a tag byte (0 null,
/// 1 integer, 2 real, 3 text, 4 blob), then 8 bytes for a number or a 32-bit length and the bytes.
enum SQLValueCoding {
    static let null: UInt8 = 0, integer: UInt8 = 1, real: UInt8 = 2, text: UInt8 = 3, blob: UInt8 = 4

    /// Appends the value the virtual table would return for `row` of `column` (`SQLiteValue`, as
    /// `xColumn` returns it).
    @inline(__always)
    static func append(_ column: UnsafeColumnView, _ row: Int, to buffer: Buffer<UInt8>) {
        switch SQLiteValue(column, row) {
        case .null: buffer.append(null)
        case .integer(let value): appendNumber(integer, UInt64(bitPattern: value), to: buffer)
        case .real(let value): appendNumber(real, value.bitPattern, to: buffer)
        case .text(let bytes): appendBytes(text, bytes, to: buffer)
        case .blob(let bytes): appendBytes(blob, bytes, to: buffer)
        }
    }

    /// A tag and 8 bytes, stored in place: `Buffer.append` of so few bytes costs a call to memmove.
    @inline(__always)
    static func appendNumber(_ tag: UInt8, _ bits: UInt64, to buffer: Buffer<UInt8>) {
        buffer.reserve(9)
        let target = UnsafeMutableRawPointer(buffer.base + buffer.count)
        target.storeBytes(of: tag, as: UInt8.self)
        target.storeBytes(of: bits.littleEndian, toByteOffset: 1, as: UInt64.self)
        buffer.count += 9
    }

    /// Appends `count` bytes, copying short runs by hand (see `appendNumber`).
    @inline(__always)
    static func appendRaw(_ source: UnsafeRawPointer, _ count: Int, to buffer: Buffer<UInt8>) {
        buffer.reserve(count)
        let target = UnsafeMutableRawPointer(buffer.base + buffer.count)
        if count <= 64 {
            var offset = 0
            while offset + 8 <= count {
                target.storeBytes(of: source.loadUnaligned(fromByteOffset: offset, as: UInt64.self), toByteOffset: offset, as: UInt64.self)
                offset += 8
            }
            while offset < count {
                target.storeBytes(of: source.load(fromByteOffset: offset, as: UInt8.self), toByteOffset: offset, as: UInt8.self)
                offset += 1
            }
        } else {
            target.copyMemory(from: source, byteCount: count)
        }
        buffer.count += count
    }

    @inline(__always)
    static func appendBytes(_ tag: UInt8, _ bytes: UnsafeRawBufferPointer, to buffer: Buffer<UInt8>) {
        buffer.reserve(5)
        let target = UnsafeMutableRawPointer(buffer.base + buffer.count)
        target.storeBytes(of: tag, as: UInt8.self)
        target.storeBytes(of: UInt32(bytes.count).littleEndian, toByteOffset: 1, as: UInt32.self)
        buffer.count += 5
        if let base = bytes.baseAddress { appendRaw(base, bytes.count, to: buffer) }
    }

    /// The size of the encoded value at `pointer`.
    @inline(__always)
    static func size(at pointer: UnsafeRawPointer) -> Int {
        switch pointer.load(as: UInt8.self) {
        case null: 1
        case integer, real: 9
        default: 5 + Int(UInt32(littleEndian: pointer.loadUnaligned(fromByteOffset: 1, as: UInt32.self)))
        }
    }

    /// The encoded value at `pointer`, its text or blob borrowed from the encoding.
    @inline(__always)
    static func value(at pointer: UnsafeRawPointer) -> SQLiteValue {
        switch pointer.load(as: UInt8.self) {
        case null: return .null
        case integer: return .integer(Int64(littleEndian: pointer.loadUnaligned(fromByteOffset: 1, as: Int64.self)))
        case real: return .real(Double(bitPattern: UInt64(littleEndian: pointer.loadUnaligned(fromByteOffset: 1, as: UInt64.self))))
        case let tag:
            let bytes = UnsafeRawBufferPointer(
                start: pointer + 5, count: Int(UInt32(littleEndian: pointer.loadUnaligned(fromByteOffset: 1, as: UInt32.self))))
            return tag == text ? .text(bytes) : .blob(bytes)
        }
    }

    /// Rewrites the values of `buffer` from `start` so that equal values under SQLite's comparison
    /// have equal bytes: a real that is a whole number in the 64-bit range becomes that integer
    /// (SQLite compares 2 and 2.0 as equal; -0.0 becomes 0).
    static func canonicalize(_ buffer: Buffer<UInt8>, from start: Int) {
        var offset = start
        let base = UnsafeMutableRawPointer(buffer.base)
        while offset < buffer.count {
            if base.load(fromByteOffset: offset, as: UInt8.self) == real {
                let value = Double(bitPattern: UInt64(littleEndian: base.loadUnaligned(fromByteOffset: offset + 1, as: UInt64.self)))
                if value.rounded() == value, value >= -9.223372036854775808e18, value < 9.223372036854775808e18 {
                    base.storeBytes(of: integer, toByteOffset: offset, as: UInt8.self)
                    base.storeBytes(of: Int64(value).littleEndian, toByteOffset: offset + 1, as: Int64.self)
                }
            }
            offset += size(at: base + offset)
        }
    }

    /// Compares two canonical keys as SQLite orders them (NULL, then numbers, then text by bytes
    /// under BINARY, then blobs), each term reversed when it is descending.
    static func compare(_ left: UnsafeRawBufferPointer, _ right: UnsafeRawBufferPointer, descending: [Bool]) -> Int {
        var a = 0, b = 0
        for term in descending.indices {
            guard a < left.count, b < right.count else { break }
            let x = left.baseAddress! + a, y = right.baseAddress! + b
            var order = compareValues(x, y)
            if descending[term] { order = -order }
            if order != 0 { return order }
            a += size(at: x)
            b += size(at: y)
        }
        return 0
    }

    private static func rank(_ tag: UInt8) -> Int {
        switch tag {
        case null: 0
        case integer, real: 1
        case text: 2
        default: 3
        }
    }

    private static func compareValues(_ x: UnsafeRawPointer, _ y: UnsafeRawPointer) -> Int {
        let tx = x.load(as: UInt8.self), ty = y.load(as: UInt8.self)
        let rx = rank(tx), ry = rank(ty)
        if rx != ry { return rx < ry ? -1 : 1 }
        switch rx {
        case 0: return 0
        case 1:
            let ix = Int64(littleEndian: x.loadUnaligned(fromByteOffset: 1, as: Int64.self))
            let iy = Int64(littleEndian: y.loadUnaligned(fromByteOffset: 1, as: Int64.self))
            let dx = Double(bitPattern: UInt64(bitPattern: ix)), dy = Double(bitPattern: UInt64(bitPattern: iy))
            switch (tx == integer, ty == integer) {
            case (true, true): return ix < iy ? -1 : (ix > iy ? 1 : 0)
            case (false, false): return dx < dy ? -1 : (dx > dy ? 1 : 0)
            case (true, false): return compareIntegerReal(ix, dy)
            case (false, true): return -compareIntegerReal(iy, dx)
            }
        default:
            let cx = Int(UInt32(littleEndian: x.loadUnaligned(fromByteOffset: 1, as: UInt32.self)))
            let cy = Int(UInt32(littleEndian: y.loadUnaligned(fromByteOffset: 1, as: UInt32.self)))
            let order = memcmp(x + 5, y + 5, min(cx, cy))
            if order != 0 { return order < 0 ? -1 : 1 }
            return cx < cy ? -1 : (cx > cy ? 1 : 0)
        }
    }

    /// SQLite's `sqlite3IntFloatCompare`: an integer against a real, exactly.
    private static func compareIntegerReal(_ integer: Int64, _ real: Double) -> Int {
        if real < -9.223372036854775808e18 { return 1 }
        if real >= 9.223372036854775808e18 { return -1 }
        let truncated = Int64(real)
        if integer < truncated { return -1 }
        if integer > truncated { return 1 }
        let widened = Double(integer)
        return widened < real ? -1 : (widened > real ? 1 : 0)
    }

    /// A 64-bit hash of `count` bytes at `pointer`.
    @inline(__always)
    static func hash(_ pointer: UnsafeRawPointer, _ count: Int) -> UInt64 {
        var state: UInt64 = 0x9E37_79B9_7F4A_7C15 ^ UInt64(count)
        var offset = 0
        while offset + 8 <= count {
            state = (state ^ pointer.loadUnaligned(fromByteOffset: offset, as: UInt64.self)) &* 0xFF51_AFD7_ED55_8CCD
            state ^= state >> 29
            offset += 8
        }
        var tail: UInt64 = 0
        var shift: UInt64 = 0
        while offset < count {
            tail |= UInt64(pointer.load(fromByteOffset: offset, as: UInt8.self)) << shift
            shift += 8
            offset += 1
        }
        state = (state ^ tail) &* 0xC4CE_B9FE_1A85_EC53
        return state ^ (state >> 32)
    }
}

/// Reads a whole input and returns its rows grouped and in key order, with memory bounded by
/// `limit`: rows are collected in memory with a hash table of their groups; when the memory passes
/// the limit (and at the end) the groups are sorted and written as a run to a temporary file,
/// unlinked at once; a `GroupReader` then merges the runs by key, each group's rows read from every
/// run that has it, one after the other. A few groups cost one hash look-up per row and no
/// comparisons of rows; many groups cost a merge of runs of groups, which is SQLite's sorter without
/// its per-row comparisons inside a run.
///
/// While there are at most `indexLimit` groups in all runs, each group's key, place and row count
/// are kept, so that `split()` can divide the groups into two halves read on two threads.
final class GroupedRows {
    let plan: GroupingPlan
    /// The table's columns, which readers index.
    let columnCount: Int
    let limit: Int
    let directory: String
    /// Whether a key column can return reals, which need `canonicalize`.
    let keysMayBeReal: Bool

    // The run being collected. One thread uses the object at a time (SQLite's, in the callbacks of
    // one cursor), so its fields are `@exclusivity(unchecked)`: the run-time checks of overlapping
    // accesses cost 14 % of a grouped scan.
    /// Each group's rows, each a 32-bit length and its payload values: appended where they belong,
    /// so writing a run copies whole groups (a counting sort of one arena read it back in random order
    /// and cost more than the rest of the run together). Kept from run to run.
    @exclusivity(unchecked) private var groupBuffers: [Buffer<UInt8>] = []
    /// The bytes in `groupBuffers`.
    @exclusivity(unchecked) private var rowBytes = 0
    private let keys = Buffer<UInt8>(capacity: 1 << 12)
    @exclusivity(unchecked) private var keyStarts: [Int] = [0]
    private let representatives = Buffer<UInt8>(capacity: 1 << 12)
    @exclusivity(unchecked) private var representativeStarts: [Int] = [0]
    @exclusivity(unchecked) private var groupHashes: [UInt64] = []
    @exclusivity(unchecked) private var groupRows: [Int] = []
    @exclusivity(unchecked) private var slots = [Int32](repeating: -1, count: 1024)
    private let scratch = Buffer<UInt8>(capacity: 256)
    private let canonical = Buffer<UInt8>(capacity: 256)

    @exclusivity(unchecked) private var runs: [Run] = []
    /// The rows added.
    @exclusivity(unchecked) private(set) var rowCount = 0
    /// Every group of every run, in run order and key order within a run, while there are at most
    /// `indexLimit`; nil past that.
    @exclusivity(unchecked) private var index: [IndexedGroup]? = []
    /// The most groups `index` keeps.
    static let indexLimit = 1 << 16
    /// The most memory one run used when it was written (see `collected`), for tests.
    private(set) var largestRun = 0

    /// A group of a run: its canonical key, where it starts in the run, and its rows.
    private struct IndexedGroup {
        var run: Int
        var key: [UInt8]
        var offset: Int64
        var rows: Int
    }

    init(plan: GroupingPlan, columns: [LogicalType], limit: Int, directory: String) {
        self.plan = plan
        columnCount = columns.count
        self.limit = limit
        self.directory = directory
        keysMayBeReal = plan.keys.contains { columns[$0] == .float64 || columns[$0] == .decimal }
    }

    /// The memory the run being collected uses (what it holds may be up to twice that, since
    /// buffers grow by doubling).
    private var collected: Int {
        rowBytes + keys.count + representatives.count + groupHashes.count * 128 + slots.count * 4
    }

    /// Adds the rows of `batch`, writing a run out whenever the memory passes the limit.
    func add(_ batch: RecordBatch) throws(StepError) {
        let views = batch.columns.map(\.unsafeView)
        let keyColumns = plan.keys, payloadColumns = plan.payload
        rowCount += batch.count
        for index in 0..<batch.count {
            scratch.count = 0
            for column in keyColumns { SQLValueCoding.append(views[column], index, to: scratch) }
            let key: Buffer<UInt8>
            if keysMayBeReal {
                canonical.count = 0
                canonical.append(scratch.bytes)
                SQLValueCoding.canonicalize(canonical, from: 0)
                key = canonical
            } else {
                key = scratch
            }
            let group = Int(self.group(of: key))
            let rows = groupBuffers[group]
            let start = rows.count
            rows.reserve(4)
            rows.count += 4
            for column in payloadColumns { SQLValueCoding.append(views[column], index, to: rows) }
            UnsafeMutableRawPointer(rows.base + start).storeBytes(of: UInt32(rows.count - start - 4).littleEndian, as: UInt32.self)
            rowBytes += rows.count - start
            groupRows[group] += 1
            if collected > limit { try writeRun() }
        }
    }

    /// The group of the canonical key in `key`, added when new (with `scratch` as its values).
    private func group(of key: Buffer<UInt8>) -> Int32 {
        let hash = SQLValueCoding.hash(key.base, key.count)
        let mask = slots.count - 1
        var slot = Int(truncatingIfNeeded: hash) & mask
        while true {
            let group = slots[slot]
            if group < 0 { break }
            let index = Int(group)
            if groupHashes[index] == hash {
                let start = keyStarts[index], count = keyStarts[index + 1] - start
                if count == key.count, memcmp(keys.base + start, key.base, count) == 0 { return group }
            }
            slot = (slot + 1) & mask
        }
        let group = Int32(groupHashes.count)
        slots[slot] = group
        groupHashes.append(hash)
        groupRows.append(0)
        if groupBuffers.count <= Int(group) { groupBuffers.append(Buffer<UInt8>(capacity: 32)) }
        keys.append(key.bytes)
        keyStarts.append(keys.count)
        representatives.append(scratch.bytes)
        representativeStarts.append(representatives.count)
        if groupHashes.count * 2 > slots.count { rehash(slots.count * 2) }
        return group
    }

    private func rehash(_ size: Int) {
        slots = [Int32](repeating: -1, count: size)
        let mask = size - 1
        for (group, hash) in groupHashes.enumerated() {
            var slot = Int(truncatingIfNeeded: hash) & mask
            while slots[slot] >= 0 { slot = (slot + 1) & mask }
            slots[slot] = Int32(group)
        }
    }

    /// Sorts the groups collected so far, writes them with their rows as a run and empties memory.
    private func writeRun() throws(StepError) {
        let groups = groupHashes.count
        guard groups > 0 else { return }
        largestRun = max(largestRun, collected)
        let keyBytes = keys.bytes
        let order = (0..<groups).sorted { left, right in
            SQLValueCoding.compare(
                UnsafeRawBufferPointer(rebasing: keyBytes[keyStarts[left]..<keyStarts[left + 1]]),
                UnsafeRawBufferPointer(rebasing: keyBytes[keyStarts[right]..<keyStarts[right + 1]]),
                descending: plan.descending) < 0
        }
        if (index?.count ?? 0) + groups > Self.indexLimit { index = nil }
        let run = try Run(directory: directory)
        for group in order {
            let key = UnsafeRawBufferPointer(rebasing: keys.bytes[keyStarts[group]..<keyStarts[group + 1]])
            index?.append(IndexedGroup(run: runs.count, key: Array(key), offset: run.size, rows: groupRows[group]))
            try run.writeGroup(
                key: key,
                representative: UnsafeRawBufferPointer(
                    rebasing: representatives.bytes[representativeStarts[group]..<representativeStarts[group + 1]]),
                rows: groupRows[group])
            try run.writeRows(groupBuffers[group].bytes)
            groupBuffers[group].count = 0
        }
        try run.finishWriting()
        runs.append(run)
        rowBytes = 0
        // Many small groups: let their buffers go rather than keep one per group of the largest run.
        if groups > 4096 { groupBuffers = [] }
        keys.count = 0
        keyStarts = [0]
        representatives.count = 0
        representativeStarts = [0]
        groupHashes.removeAll(keepingCapacity: true)
        groupRows.removeAll(keepingCapacity: true)
        for slot in slots.indices { slots[slot] = -1 }
    }

    /// The runs written.
    var runCount: Int { runs.count }

    /// Ends the input: writes the last run. The rows are then read with `reader()` or `split()`.
    func finishInput() throws(StepError) {
        try writeRun()
    }

    /// A reader of every group, in key order.
    func reader() throws(StepError) -> GroupReader {
        try GroupReader(plan: plan, columns: columnCount, runs: runs.map { RunReader($0, from: 0, to: $0.size) })
    }

    /// Two readers that divide the groups between them at the key where about half the rows lie
    /// on each side: the first returns the groups before that key, the second the rest, each in key
    /// order. Nil when the groups were not indexed (too many) or all rows lie in one group.
    func split() throws(StepError) -> (GroupReader, GroupReader)? {
        guard let index, index.count >= 2 else { return nil }
        let descending = plan.descending
        func compare(_ left: [UInt8], _ right: [UInt8]) -> Int {
            left.withUnsafeBytes { a in right.withUnsafeBytes { b in SQLValueCoding.compare(a, b, descending: descending) } }
        }
        let order = index.indices.sorted { compare(index[$0].key, index[$1].key) < 0 }
        // The first key (after the first) at which the rows before it reach half of all rows.
        var before = 0
        var boundary: [UInt8]?
        for (position, entry) in order.enumerated() {
            let key = index[entry].key
            if position > 0, before * 2 >= rowCount, compare(index[order[position - 1]].key, key) != 0 {
                boundary = key
                break
            }
            before += index[entry].rows
        }
        guard let boundary else { return nil }
        // Within a run the groups are in key order: the second half starts at its first key from the
        // boundary on, or at its end.
        var starts = runs.map(\.size)
        var found = [Bool](repeating: false, count: runs.count)
        for entry in index where !found[entry.run] && compare(entry.key, boundary) >= 0 {
            starts[entry.run] = entry.offset
            found[entry.run] = true
        }
        var first: [RunReader] = [], second: [RunReader] = []
        for (run, start) in zip(runs, starts) {
            first.append(RunReader(run, from: 0, to: start))
            second.append(RunReader(run, from: start, to: run.size))
        }
        return (
            try GroupReader(plan: plan, columns: columnCount, runs: first),
            try GroupReader(plan: plan, columns: columnCount, runs: second)
        )
    }
}

/// Returns the groups of some runs' ranges merged by key: the rows of a `GroupedRows`, or one half
/// of them (see `GroupedRows.split`). One thread uses a reader at a time; the two halves of a split
/// read the same files on two threads, each with a `RunReader` of its own.
final class GroupReader {
    let plan: GroupingPlan
    /// For each column of the table: its place among the key columns, or -1.
    let keySlot: [Int]
    /// For each column of the table: its place among the payload columns, or -1.
    let payloadSlot: [Int]
    @exclusivity(unchecked) private var runs: [RunReader]
    /// The reader the current row comes from.
    @exclusivity(unchecked) private var current: RunReader?
    @exclusivity(unchecked) private var currentKey: [UInt8] = []
    /// The values of the current group's key columns, as SQLite sees them.
    let representative = Buffer<UInt8>(capacity: 64)
    /// Where each key column's value starts in `representative`.
    private let representativeOffsets: Buffer<Int>
    @exclusivity(unchecked) private(set) var row = UnsafeRawBufferPointer(start: nil, count: 0)
    private let rowOffsets: Buffer<Int>

    init(plan: GroupingPlan, columns: Int, runs: [RunReader]) throws(StepError) {
        self.plan = plan
        var keySlot = [Int](repeating: -1, count: columns)
        for (place, column) in plan.keys.enumerated() where keySlot[column] < 0 { keySlot[column] = place }
        var payloadSlot = [Int](repeating: -1, count: columns)
        for (place, column) in plan.payload.enumerated() { payloadSlot[column] = place }
        self.keySlot = keySlot
        self.payloadSlot = payloadSlot
        representativeOffsets = Buffer<Int>(capacity: max(plan.keys.count, 1))
        representativeOffsets.count = plan.keys.count
        rowOffsets = Buffer<Int>(capacity: max(plan.payload.count, 1))
        rowOffsets.count = plan.payload.count
        self.runs = runs
        for run in runs { try run.nextGroup() }
    }

    /// Moves to the next row; false after the last.
    func advance() throws(StepError) -> Bool {
        while true {
            if let current, let bytes = try current.nextRow() {
                row = bytes
                var offset = 0
                for place in 0..<rowOffsets.count {
                    rowOffsets[place] = offset
                    offset += SQLValueCoding.size(at: bytes.baseAddress! + offset)
                }
                return true
            }
            if let current { try current.nextGroup() }
            // The run whose head has the smallest key: the same key as before if another run has it.
            var next: RunReader?
            for run in runs where run.hasGroup {
                guard let best = next else {
                    next = run
                    continue
                }
                let order = run.key.withUnsafeBytes { left in
                    best.key.withUnsafeBytes { right in SQLValueCoding.compare(left, right, descending: plan.descending) }
                }
                if order < 0 { next = run }
            }
            current = next
            guard let next else { return false }
            if next.key != currentKey {
                currentKey = next.key
                representative.count = 0
                next.representative.withUnsafeBytes { representative.append($0) }
                var offset = 0
                for place in 0..<representativeOffsets.count {
                    representativeOffsets[place] = offset
                    offset += SQLValueCoding.size(at: representative.base + offset)
                }
            }
        }
    }

    /// Returns column `index` of the current row to SQLite.
    func result(_ context: OpaquePointer?, column index: Int) {
        let key = keySlot[index]
        if key >= 0 {
            SQLValueCoding.value(at: representative.base + representativeOffsets[key]).result(context)
            return
        }
        let place = payloadSlot[index]
        if place >= 0, let base = row.baseAddress {
            SQLValueCoding.value(at: base + rowOffsets[place]).result(context)
        } else {
            sqlite3_result_null(context)
        }
    }
}

/// One run of groups in a temporary file: per group a 32-bit length and the canonical key, a
/// 32-bit length and the key's values, a 64-bit row count, then per row a 32-bit length and its
/// payload values (integers little-endian). Unlinked as soon as it is created; closed when the run
/// and every reader of it are gone. Once written it is only read, with `pread`, by `RunReader`s.
final class Run {
    let descriptor: Int32
    private var buffer = Buffer<UInt8>(capacity: 1 << 20)
    /// The bytes written to the file.
    private var flushed: Int64 = 0

    init(directory: String) throws(StepError) {
        var template = Array((directory.isEmpty ? "/tmp" : directory).utf8CString.dropLast()) + Array("/osiris-group-XXXXXX".utf8CString)
        let descriptor = template.withUnsafeMutableBufferPointer { mkstemp($0.baseAddress!) }
        guard descriptor >= 0 else {
            throw StepError(.io, "cannot create a temporary file in \(directory): \(String(cString: strerror(errno)))")
        }
        template.withUnsafeBufferPointer { _ = unlink($0.baseAddress!) }
        self.descriptor = descriptor
    }

    deinit { close(descriptor) }

    /// The size of the run so far: where the next group starts.
    var size: Int64 { flushed + Int64(buffer.count) }

    private func write(_ base: UnsafeRawPointer, count: Int) throws(StepError) {
        do {
            try writeDescriptor(descriptor, base, count: count, name: "temporary group file")
        } catch {
            throw StepError(.io, error.description)
        }
        flushed += Int64(count)
    }

    private func flush() throws(StepError) {
        try write(buffer.base, count: buffer.count)
        buffer.count = 0
    }

    private func append32(_ value: Int) {
        buffer.reserve(4)
        UnsafeMutableRawPointer(buffer.base + buffer.count).storeBytes(of: UInt32(value).littleEndian, as: UInt32.self)
        buffer.count += 4
    }

    func writeGroup(key: UnsafeRawBufferPointer, representative: UnsafeRawBufferPointer, rows: Int) throws(StepError) {
        append32(key.count)
        buffer.append(key)
        append32(representative.count)
        buffer.append(representative)
        withUnsafeBytes(of: UInt64(rows).littleEndian) { buffer.append($0) }
        if buffer.count >= 1 << 20 { try flush() }
    }

    /// Writes rows already encoded as the format has them (a 32-bit length and the payload each).
    func writeRows(_ rows: UnsafeRawBufferPointer) throws(StepError) {
        guard let base = rows.baseAddress else { return }
        if rows.count >= 1 << 16 {
            try flush()
            try write(base, count: rows.count)
        } else {
            SQLValueCoding.appendRaw(base, rows.count, to: buffer)
            if buffer.count >= 1 << 20 { try flush() }
        }
    }

    /// Writes what is left and lets the 1 MiB write buffer go.
    func finishWriting() throws(StepError) {
        try flush()
        buffer = Buffer<UInt8>(capacity: 1)
    }
}

/// Reads the groups of a range of a run, through a 64 KiB buffer of its own (a merge reads from
/// every run at once).
final class RunReader {
    private let run: Run
    private let end: Int64
    @exclusivity(unchecked) private var buffer = Buffer<UInt8>(capacity: 64 << 10)
    @exclusivity(unchecked) private var fileOffset: Int64
    @exclusivity(unchecked) private var start = 0
    @exclusivity(unchecked) private var atEnd = false
    /// Rows of the current group not read yet.
    @exclusivity(unchecked) private var remaining = 0
    /// Whether a group is current.
    @exclusivity(unchecked) private(set) var hasGroup = false
    /// The current group's canonical key.
    @exclusivity(unchecked) private(set) var key: [UInt8] = []
    /// The current group's key values as SQLite sees them.
    @exclusivity(unchecked) private(set) var representative: [UInt8] = []

    /// A reader of the bytes of `run` from `start` to `end`, which must be the starts of groups (or
    /// the run's end).
    init(_ run: Run, from start: Int64, to end: Int64) {
        self.run = run
        self.end = end
        fileOffset = start
    }

    /// Makes `count` bytes available at `start`; false when the range ends first.
    private func ensure(_ count: Int) throws(StepError) -> Bool {
        while buffer.count - start < count {
            if atEnd { return false }
            if start > 0 {
                let left = buffer.count - start
                if left > 0 { UnsafeMutableRawPointer(buffer.base).copyMemory(from: buffer.base + start, byteCount: left) }
                buffer.count = left
                start = 0
            }
            if buffer.capacity - buffer.count < count { buffer.reserve(count) }
            let wanted = Int(min(Int64(buffer.capacity - buffer.count), end - fileOffset))
            let got: Int
            do {
                got = wanted == 0 ? 0 : try readDescriptor(
                    run.descriptor, into: UnsafeMutableRawPointer(buffer.base + buffer.count), count: wanted, at: fileOffset,
                    name: "temporary group file")
            } catch {
                throw StepError(.io, error.description)
            }
            if got == 0 { atEnd = true }
            buffer.count += got
            fileOffset += Int64(got)
        }
        return true
    }

    private func take32() -> Int {
        let value = Int(UInt32(littleEndian: UnsafeRawPointer(buffer.base + start).loadUnaligned(as: UInt32.self)))
        start += 4
        return value
    }

    private func take(_ count: Int) -> [UInt8] {
        let bytes = Array(UnsafeRawBufferPointer(start: buffer.base + start, count: count))
        start += count
        return bytes
    }

    /// Moves to the next group; `hasGroup` is false after the last.
    func nextGroup() throws(StepError) {
        // Rows of the group not returned (none in a correct merge) are skipped.
        while remaining > 0 { _ = try nextRow() }
        hasGroup = false
        guard try ensure(4) else { return }
        let keyCount = take32()
        guard try ensure(keyCount + 4) else { throw damaged() }
        key = take(keyCount)
        let representativeCount = take32()
        guard try ensure(representativeCount + 8) else { throw damaged() }
        representative = take(representativeCount)
        remaining = Int(UInt64(littleEndian: UnsafeRawPointer(buffer.base + start).loadUnaligned(as: UInt64.self)))
        start += 8
        hasGroup = true
    }

    /// The next row of the current group, valid until the next call; nil after its last row.
    func nextRow() throws(StepError) -> UnsafeRawBufferPointer? {
        guard remaining > 0 else { return nil }
        guard try ensure(4) else { throw damaged() }
        let count = take32()
        guard try ensure(count) else { throw damaged() }
        let row = UnsafeRawBufferPointer(start: buffer.base + start, count: count)
        start += count
        remaining -= 1
        return row
    }

    private func damaged() -> StepError { StepError(.internalError, "a temporary group file was cut short") }
}
