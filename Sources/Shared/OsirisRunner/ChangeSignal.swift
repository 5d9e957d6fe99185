import OsirisCore
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Wakes threads that wait for a change of state kept elsewhere, in a `Synchronization.Mutex`.
///
/// `Mutex` has no condition variable, so the waits of the scheduler and of the queues between
/// steps use this: a change counter under a pthread mutex and condition. A waiter reads the
/// counter, checks its state under its own `Mutex`, and sleeps only while the counter is unchanged,
/// so a change made between the check and the sleep is never missed:
///
/// ```swift
/// let result = signal.wait { state.withLock { $0.ready ? $0.value : nil } }
/// ```
///
/// The pthread mutex and condition live in memory allocated once, whose address never changes
/// (pthread objects must not move, which a class's stored property does not promise).
// unchecked: every access to the pthread objects goes through pthread_mutex_lock on their fixed address.
final class ChangeSignal: @unchecked Sendable {
    // unchecked: `changes` is only read and written holding `mutex`; the pthread objects are used only through pthread calls.
    private let mutex: UnsafeMutablePointer<pthread_mutex_t>
    private let condition: UnsafeMutablePointer<pthread_cond_t>
    private var changes: UInt64 = 0

    init() {
        mutex = .allocate(capacity: 1)
        mutex.initialize(to: pthread_mutex_t())
        pthread_mutex_init(mutex, nil)
        condition = .allocate(capacity: 1)
        condition.initialize(to: pthread_cond_t())
        var attributes = pthread_condattr_t()
        pthread_condattr_init(&attributes)
        #if !canImport(Darwin)
        pthread_condattr_setclock(&attributes, CLOCK_MONOTONIC)
        #endif
        pthread_cond_init(condition, &attributes)
        pthread_condattr_destroy(&attributes)
    }

    deinit {
        pthread_cond_destroy(condition)
        pthread_mutex_destroy(mutex)
        condition.deallocate()
        mutex.deallocate()
    }

    /// Wakes every waiter; call after changing the state they wait for.
    func notify() {
        pthread_mutex_lock(mutex)
        changes &+= 1
        pthread_cond_broadcast(condition)
        pthread_mutex_unlock(mutex)
    }

    /// Returns the first non-nil result of `check`, which is called again after every `notify`;
    /// nil when `deadline` (in `MonotonicClock` milliseconds) passes first.
    func wait<Result>(deadline: Int? = nil, until check: () -> Result?) -> Result? {
        while true {
            let seen = counter()
            if let result = check() { return result }
            if let deadline, MonotonicClock.milliseconds() >= deadline { return nil }
            sleep(past: seen, deadline: deadline)
        }
    }

    private func counter() -> UInt64 {
        pthread_mutex_lock(mutex)
        defer { pthread_mutex_unlock(mutex) }
        return changes
    }

    /// Sleeps until the counter moves past `seen` or `deadline` passes.
    private func sleep(past seen: UInt64, deadline: Int?) {
        pthread_mutex_lock(mutex)
        defer { pthread_mutex_unlock(mutex) }
        while changes == seen {
            guard let deadline else {
                pthread_cond_wait(condition, mutex)
                continue
            }
            let remaining = deadline - MonotonicClock.milliseconds()
            if remaining <= 0 { return }
            var time = timespec()
            clock_gettime(CLOCK_MONOTONIC, &time)
            time.tv_sec += remaining / 1000
            time.tv_nsec += (remaining % 1000) * 1_000_000
            if time.tv_nsec >= 1_000_000_000 {
                time.tv_sec += 1
                time.tv_nsec -= 1_000_000_000
            }
            pthread_cond_timedwait(condition, mutex, &time)
        }
    }
}
