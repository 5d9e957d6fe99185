#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Work running on a thread of its own, whose result `join()` waits for: how the CSV reader puts
/// both cores on one file, and how a split GROUP BY runs its second half. For work that nobody
/// waits for, see `startThread`.
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
        guard let thread = spawn(work, detached: false) else { return nil }
        work.thread = thread
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

/// What a thread started here runs.
protocol ThreadBody: AnyObject {
    func run()
}

/// Starts `body` on a new, detached thread with a stack large enough for the drivers: the runner's
/// steps, the worker's connections and the sandbox relays, which signal their ends themselves.
package func startThread(_ body: @escaping @Sendable () -> Void) {
    final class Detached: ThreadBody, Sendable {
        let body: @Sendable () -> Void
        init(_ body: @escaping @Sendable () -> Void) { self.body = body }
        func run() { body() }
    }
    precondition(spawn(Detached(body), detached: true) != nil, "cannot start a thread")
}

/// Starts a thread running `body` with an 8 MiB stack (SQLite, libpq and libmariadb may recurse
/// deeply); nil when none can be started.
private func spawn(_ body: ThreadBody, detached: Bool) -> pthread_t? {
    var attributes = pthread_attr_t()
    pthread_attr_init(&attributes)
    defer { pthread_attr_destroy(&attributes) }
    pthread_attr_setstacksize(&attributes, 8 * 1024 * 1024)
    if detached { pthread_attr_setdetachstate(&attributes, Int32(PTHREAD_CREATE_DETACHED)) }
    let box = Unmanaged<AnyObject>.passRetained(body).toOpaque()
    var thread = pthread_t()
    let result = pthread_create(&thread, &attributes, { pointer in
        // Takes over the retained body and runs it.
        let body = Unmanaged<AnyObject>.fromOpaque(pointer!).takeRetainedValue() as! ThreadBody
        body.run()
        return nil
    }, box)
    guard result == 0 else {
        Unmanaged<AnyObject>.fromOpaque(box).release()
        return nil
    }
    return thread
}
