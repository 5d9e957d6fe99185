/// Growable memory for one column buffer, managed by hand so the hot loops of the CSV reader and
/// writers work on raw pointers without bounds checks or copy-on-write checks.
///
/// A buffer is mutated only while a builder owns it alone; once a `Column` holds it, it is never
/// mutated again, which is what makes sharing it between threads safe.
///
/// For the same reason its three fields skip Swift's dynamic exclusivity checks: a buffer has one
/// owner while it changes, so two accesses cannot overlap, and the checks (a thread-local access set
/// consulted on every append) took about 16 % of a 1M-row filter's CPU time.
// unchecked: mutated only while one builder owns it, read-only once a `Column` holds it (see above).
public final class Buffer<Element: BitwiseCopyable>: @unchecked Sendable {
    // The fields are reached from other modules only through the inlinable accessors below.
    // `@exclusivity(unchecked)` is not carried across modules: OsirisDrivers' direct accesses to the
    // stored properties were checked again (9 % of a grouped scan's CPU time). An inlined accessor
    // keeps the access this module compiled. The class and its hot members are `public` because
    // `@inlinable` on `package` members was not inlined into other modules (Swift 6.3, no library
    // evolution).
    @usableFromInline @exclusivity(unchecked) var storedBase: UnsafeMutablePointer<Element>
    @usableFromInline @exclusivity(unchecked) var storedCount: Int
    @usableFromInline @exclusivity(unchecked) var storedCapacity: Int

    /// The first element.
    @inlinable public var base: UnsafeMutablePointer<Element> { storedBase }
    /// How many elements are in use.
    @inlinable public var count: Int {
        get { storedCount }
        set { storedCount = newValue }
    }
    /// How many elements fit before the buffer grows.
    @inlinable public var capacity: Int { storedCapacity }

    /// An empty buffer with room for `capacity` elements.
    package init(capacity: Int = 0) {
        let size = max(capacity, 1)
        storedBase = .allocate(capacity: size)
        storedCapacity = size
        storedCount = 0
    }

    /// Takes over memory allocated with `UnsafeMutablePointer.allocate(capacity:)`.
    init(adopting base: UnsafeMutablePointer<Element>, count: Int, capacity: Int) {
        storedBase = base
        storedCount = count
        storedCapacity = capacity
    }

    deinit { base.deallocate() }

    /// An independent copy with the same elements.
    func copy() -> Buffer {
        let result = Buffer(capacity: count)
        result.base.update(from: base, count: count)
        result.count = count
        return result
    }

    /// Makes room for `extra` more elements.
    @inlinable @inline(__always)
    public func reserve(_ extra: Int) {
        if count &+ extra > capacity { grow(minimum: count + extra) }
    }

    /// Grows to hold at least `minimum` elements.
    @usableFromInline @inline(never)
    package func grow(minimum: Int) {
        let newCapacity = max(minimum, capacity * 2, 16)
        let newBase = UnsafeMutablePointer<Element>.allocate(capacity: newCapacity)
        newBase.update(from: base, count: count)
        base.deallocate()
        storedBase = newBase
        storedCapacity = newCapacity
    }

    /// Appends one element.
    @inlinable @inline(__always)
    public func append(_ element: Element) {
        if count == capacity { grow(minimum: count + 1) }
        base[count] = element
        count &+= 1
    }

    /// Appends `length` elements from `source`.
    @inlinable @inline(__always)
    public func append(_ source: UnsafePointer<Element>, count length: Int) {
        reserve(length)
        (base + count).update(from: source, count: length)
        count &+= length
    }

    /// Appends `length` copies of `element`.
    func append(repeating element: Element, count length: Int) {
        reserve(length)
        (base + count).update(repeating: element, count: length)
        count += length
    }

    /// The element at `index`; unchecked.
    @inlinable @inline(__always)
    public subscript(index: Int) -> Element {
        get { base[index] }
        set { base[index] = newValue }
    }

    /// The memory held, in bytes.
    var byteCount: Int { capacity * MemoryLayout<Element>.stride }
}

/// A validity bitmap: bit `row % 8` of byte `row / 8` is set when the row holds a value.
extension Buffer where Element == UInt8 {
    /// Appends raw bytes.
    @inlinable @inline(__always)
    public func append(_ bytes: UnsafeRawBufferPointer) {
        guard let source = bytes.baseAddress, !bytes.isEmpty else { return }
        append(source.assumingMemoryBound(to: UInt8.self), count: bytes.count)
    }

    /// Appends the UTF-8 bytes of `text`.
    package func append(_ text: String) {
        var text = text
        text.withUTF8 { append(UnsafeRawBufferPointer($0)) }
    }

    /// The bytes in use.
    @inlinable public var bytes: UnsafeRawBufferPointer { UnsafeRawBufferPointer(start: base, count: count) }

    /// Appends bit `row` (rows are appended in order, so a new byte starts every eighth row).
    @inline(__always)
    func appendBit(_ valid: Bool, row: Int) {
        if row & 7 == 0 { append(0) }
        if valid { base[row &>> 3] |= 1 &<< UInt8(truncatingIfNeeded: row & 7) }
    }

    /// Whether bit `row` is set.
    @inline(__always)
    func bit(_ row: Int) -> Bool {
        base[row &>> 3] & (1 &<< UInt8(truncatingIfNeeded: row & 7)) != 0
    }

    /// Clears bit `row`.
    @inline(__always)
    func clearBit(_ row: Int) {
        base[row &>> 3] &= ~(1 &<< UInt8(truncatingIfNeeded: row & 7))
    }
}
