import Synchronization
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// A `Synchronization.Mutex` whose critical sections ThreadSanitizer can see.
///
/// On Linux, `Mutex` locks with atomics and futex calls compiled outside the instrumented code, so
/// ThreadSanitizer sees no ordering between two threads' critical sections and reports every
/// value behind a `Mutex` as a race. When the ThreadSanitizer runtime is loaded, this tells it
/// about each acquire and release (`__tsan_acquire`/`__tsan_release`, found with `dlsym`); in a
/// normal build both are absent and the cost is one nil check.
package final class TrackedMutex<Value>: Sendable {
    private let mutex: Mutex<Value>

    /// A mutex guarding `value`.
    package init(_ value: sending Value) { mutex = Mutex(value) }

    /// Runs `body` with exclusive access to the value.
    package func withLock<Result, E: Error>(_ body: (inout sending Value) throws(E) -> sending Result) throws(E) -> sending Result {
        let key = Unmanaged.passUnretained(self).toOpaque()
        return try mutex.withLock { (value: inout sending Value) throws(E) -> sending Result in
            ThreadSanitizer.acquire?(key)
            defer { ThreadSanitizer.release?(key) }
            return try body(&value)
        }
    }
}

/// The ThreadSanitizer runtime's annotations, when it is loaded.
private enum ThreadSanitizer {
    typealias Annotation = @convention(c) (UnsafeMutableRawPointer?) -> Void

    static let acquire = function("__tsan_acquire")
    static let release = function("__tsan_release")

    private static func function(_ name: String) -> Annotation? {
        dlsym(UnsafeMutableRawPointer(bitPattern: 0), name).map { unsafeBitCast($0, to: Annotation.self) }
    }
}
