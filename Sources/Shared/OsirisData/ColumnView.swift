/// Read access to a column through raw pointers, for the innermost loops of drivers (SQLite's
/// per-value callbacks): no reference counting, no bounds checks beyond debug builds.
///
/// A view does not keep the column alive: use it only while the `Column` (or its batch) that made
/// it is held elsewhere.
public struct UnsafeColumnView {
    /// The column's logical type.
    public let type: LogicalType
    /// The number of rows.
    public let count: Int
    private let hasNulls: Bool
    private let validity: UnsafePointer<UInt8>
    private let data: UnsafePointer<UInt8>
    private let words: UnsafePointer<Int64>

    init(_ column: Column) {
        type = column.type
        count = column.count
        hasNulls = column.nullCount != 0
        validity = UnsafePointer(column.validity.base)
        data = UnsafePointer(column.data.base)
        words = UnsafePointer(column.words.base)
    }

    /// Whether the row is null.
    @inline(__always)
    public func isNull(_ row: Int) -> Bool {
        hasNulls && validity[row &>> 3] & (1 &<< UInt8(truncatingIfNeeded: row & 7)) == 0
    }

    /// The row's boolean (`bool` columns).
    @inline(__always)
    public func bool(_ row: Int) -> Bool { data[row] != 0 }

    /// The row's integer (`int64` columns).
    @inline(__always)
    public func int64(_ row: Int) -> Int64 { words[row] }

    /// The row's number (`float64` columns).
    @inline(__always)
    public func float64(_ row: Int) -> Double { Double(bitPattern: UInt64(bitPattern: words[row])) }

    /// The row's bytes (byte-backed columns).
    @inline(__always)
    public func bytes(_ row: Int) -> UnsafeRawBufferPointer {
        let start = Int(words[row])
        return UnsafeRawBufferPointer(start: data + start, count: Int(words[row + 1]) - start)
    }
}

extension Column {
    /// A pointer view of the column; valid while the column is alive.
    public var unsafeView: UnsafeColumnView { UnsafeColumnView(self) }
}
