import OsirisCore
import OsirisData

/// `filesystem.csv_writer`: writes its input as CSV to a temporary file and renames it into place.
struct CSVFileWriter: Writer {
    func write(_ context: StepContext, input: any BatchSource) throws(StepError) {
        let path = try context.requiredString("path")
        var options = CSVWriteOptions()
        if let delimiter = context.config("delimiter")?.stringValue {
            options.delimiter = try CSVFileExtractor.byte(delimiter, key: "delimiter", context)
        }
        if let quote = context.config("quotechar")?.stringValue { options.quote = try CSVFileExtractor.byte(quote, key: "quotechar", context) }
        if let quoting = context.config("quoting")?.stringValue {
            guard let value = CSVQuoting(rawValue: quoting) else {
                throw StepError(.configuration, "step '\(context.step.id)': unknown quoting '\(quoting)'")
            }
            options.quoting = value
        }
        if let newline = context.config("newline")?.stringValue {
            guard let value = Newline(rawValue: newline) else {
                throw StepError(.configuration, "step '\(context.step.id)': unknown newline '\(newline)'")
            }
            options.newline = value
        }
        if let header = context.config("header")?.boolValue { options.header = header }
        if let encoding = context.config("encoding")?.stringValue { options.encoding = encoding }
        let schema = try input.schema()
        let file = try openAtomicOutput(path: path, createDirectories: context.config("create_dirs")?.boolValue == true)
        let writer: CSVWriter
        do {
            writer = try CSVWriter(descriptor: file.descriptor, schema: schema, options: options)
        } catch {
            throw StepError(.configuration, "step '\(context.step.id)': \(error.message)")
        }
        try FileWriting.copy(input, context: context, path: path, file: file) { batch throws(DataError) in
            try writer.write(batch)
        } finish: { () throws(DataError) -> Int in
            try writer.finish()
            return writer.bytesWritten
        }
    }
}

/// `filesystem.jsonl_writer`: writes one JSON object per row, with the same atomic write.
struct JSONLinesFileWriter: Writer {
    func write(_ context: StepContext, input: any BatchSource) throws(StepError) {
        let path = try context.requiredString("path")
        if let encoding = context.config("encoding")?.stringValue, !["utf-8", "utf8"].contains(encoding.lowercased()) {
            throw StepError(.configuration, "step '\(context.step.id)': JSON lines are written in UTF-8 only, not '\(encoding)'")
        }
        var newline = Newline.lf
        if let text = context.config("newline")?.stringValue {
            guard let value = Newline(rawValue: text) else {
                throw StepError(.configuration, "step '\(context.step.id)': unknown newline '\(text)'")
            }
            newline = value
        }
        let schema = try input.schema()
        let file = try openAtomicOutput(path: path, createDirectories: context.config("create_dirs")?.boolValue == true)
        let writer = JSONLinesWriter(descriptor: file.descriptor, schema: schema, newline: newline)
        try FileWriting.copy(input, context: context, path: path, file: file) { batch throws(DataError) in
            try writer.write(batch)
        } finish: { () throws(DataError) -> Int in
            try writer.finish()
            return writer.bytesWritten
        }
    }
}

/// The loop both file writers share: read every batch, write it, commit, record the artifact.
enum FileWriting {
    static func copy(
        _ input: any BatchSource, context: StepContext, path: String, file: AtomicOutputFile,
        write: (RecordBatch) throws(DataError) -> Void, finish: () throws(DataError) -> Int
    ) throws(StepError) {
        var rows = 0
        func data(_ body: () throws(DataError) -> Void) throws(StepError) {
            do {
                try body()
            } catch {
                // A full disk or a file-size limit (EFBIG; the tools ignore SIGXFSZ) is an I/O error.
                throw StepError(error.kind == .io ? .io : .run, "cannot write '\(path)': \(error.message)")
            }
        }
        while let batch = try input.next() {
            try context.cancellation.check()
            try data { () throws(DataError) in try write(batch) }
            rows += batch.count
            context.progress.read(rows: batch.count, bytes: batch.dataByteCount)
        }
        var bytes = 0
        try data { () throws(DataError) in bytes = try finish() }
        try context.cancellation.check()
        do {
            try file.commit()
        } catch {
            throw StepError(.io, error.description)
        }
        context.progress.wrote(rows: rows, bytes: bytes)
        if let fingerprint = try? FileSystem.fingerprint(ofFile: path) {
            context.progress.created(file: path, bytes: fingerprint.bytes, sha256: fingerprint.sha256)
        }
    }
}
