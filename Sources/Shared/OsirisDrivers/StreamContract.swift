import OsirisData

/// The contract of a step's output stream (DESIGN.md §7.1): the schema given to
/// `BatchSink.start(schema:)` is the schema of every batch that follows.
///
/// Sinks that stand between a producer and its consumers (the runner's tee) call `check` on every
/// batch, so a driver that breaks the contract fails its step with an internal error instead of
/// handing consumers a batch they did not expect.
public enum StreamContract {
    /// Throws an internal error naming `step` when `batch` does not have the stream's declared schema
    /// (or when no schema was declared before it).
    @inline(__always)
    public static func check(_ batch: RecordBatch, declared: Schema?, step: String) throws(StepError) {
        guard let declared else {
            throw StepError(.internalError, "step '\(step)' sent a batch before declaring its output's schema")
        }
        if batch.schema == declared { return }
        let difference = declared.difference(from: batch.schema) ?? "the schemas differ"
        throw StepError(.internalError, "step '\(step)' sent a batch whose schema differs from the one it declared: \(difference)")
    }
}
