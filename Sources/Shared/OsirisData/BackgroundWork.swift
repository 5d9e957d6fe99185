#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Work running on a thread of its own, whose result `join()` waits for: how the CSV reader puts
/// both cores on one file, and how a split GROUP BY runs its second half.
// unchecked: `result` is written once by the thread before it ends and read only after
// pthread_join, which orders the two; `body` is called once, on that thread, and nothing else
// touches what it captures until join() returns.
package final class BackgroundWork<Output>: ThreadBody, @unchecked Sendable {
    private let body: () -> Output
    private var result: Output?
    private var thread = pthread_t()
    private var joined = false

    private init(_ body: @escaping () -> Output) {
        self.body = body
    }

    /// Starts `body` on a new thread; nil when no thread can be started (the caller does the work itself).
    package static func start(_ body: @escaping () -> Output) -> BackgroundWork? {
        let work = BackgroundWork(body)
        let box = Unmanaged<AnyObject>.passRetained(work).toOpaque()
        guard pthread_create(&work.thread, nil, runThreadBody, box) == 0 else {
            Unmanaged<AnyObject>.fromOpaque(box).release()
            return nil
        }
        return work
    }

    func run() { result = body() }

    /// Waits for the thread to end and returns what `body` returned.
    package func join() -> Output {
        if !joined {
            pthread_join(thread, nil)
            joined = true
        }
        return result!
    }
}

/// What a thread started by `BackgroundWork` runs.
protocol ThreadBody: AnyObject {
    func run()
}

/// The thread entry: takes over the retained work object and runs it.
private func runThreadBody(_ pointer: UnsafeMutableRawPointer?) -> UnsafeMutableRawPointer? {
    let body = Unmanaged<AnyObject>.fromOpaque(pointer!).takeRetainedValue() as! ThreadBody
    body.run()
    return nil
}
