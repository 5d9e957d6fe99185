#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif
import OsirisCore

/// Turns SIGINT and SIGTERM into a call on a dedicated thread, so work stops cleanly (DESIGN.md §7.8):
/// the first signal asks the work to stop; a second one ends the process at once.
public enum SignalWatcher {
    /// Blocks SIGINT and SIGTERM in every thread started from now on and calls `onSignal` with 130 or
    /// 143 when one arrives. Call before starting any thread.
    public static func start(_ onSignal: @escaping @Sendable (ExitStatus) -> Void) {
        var signals = sigset_t()
        sigemptyset(&signals)
        sigaddset(&signals, SIGINT)
        sigaddset(&signals, SIGTERM)
        pthread_sigmask(SIG_BLOCK, &signals, nil)
        // unchecked: immutable, created here and handed to the one signal thread.
        final class Box: @unchecked Sendable {
            let handler: @Sendable (ExitStatus) -> Void
            let signals: sigset_t
            init(_ handler: @escaping @Sendable (ExitStatus) -> Void, _ signals: sigset_t) {
                self.handler = handler
                self.signals = signals
            }
        }
        let box = Unmanaged.passRetained(Box(onSignal, signals)).toOpaque()
        var thread = pthread_t()
        pthread_create(&thread, nil, { pointer in
            let box = Unmanaged<AnyObject>.fromOpaque(pointer!).takeRetainedValue() as! Box
            var signals = box.signals
            var received: Int32 = 0
            var count = 0
            while sigwait(&signals, &received) == 0 {
                let status: ExitStatus = received == SIGTERM ? .terminated : .interrupted
                count += 1
                if count > 1 { _exit(status.rawValue) }
                box.handler(status)
            }
            return nil
        }, box)
        pthread_detach(thread)
    }
}
