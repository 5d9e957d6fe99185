import Foundation
import OsirisCore
import OsirisData

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// A fresh path in the temporary folder; the file is removed by `withTemporaryFile`.
func temporaryPath(_ suffix: String = "") -> String {
    "/tmp/osiris-data-test-\(getpid())-\(UInt64.random(in: 0..<UInt64.max))\(suffix)"
}

/// Calls `body` with a path holding `bytes`, then removes the file.
func withTemporaryFile<R>(_ bytes: [UInt8], _ body: (String) throws -> R) throws -> R {
    let path = temporaryPath(".csv")
    let descriptor = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
    precondition(descriptor >= 0)
    _ = bytes.withUnsafeBytes { write(descriptor, $0.baseAddress, $0.count) }
    close(descriptor)
    defer { unlink(path) }
    return try body(path)
}

/// Every batch of a CSV text, and the reader's schema.
func readCSV(_ text: String, _ options: CSVReadOptions = CSVReadOptions()) throws -> (schema: Schema, batches: [RecordBatch]) {
    try withTemporaryFile(Array(text.utf8)) { path in
        let reader = try CSVReader(path: path, options: options)
        defer { reader.close() }
        var batches: [RecordBatch] = []
        while let batch = try reader.next() { batches.append(batch) }
        return (reader.schema, batches)
    }
}

/// What `body` writes to a descriptor, as bytes.
func captureOutput(_ body: (Int32) throws -> Void) throws -> [UInt8] {
    let path = temporaryPath(".out")
    let descriptor = open(path, O_RDWR | O_CREAT | O_TRUNC, 0o600)
    precondition(descriptor >= 0)
    defer {
        close(descriptor)
        unlink(path)
    }
    try body(descriptor)
    return try InputFile.read(path)
}

/// The batches written as CSV.
func writeCSV(_ batches: [RecordBatch], schema: Schema, _ options: CSVWriteOptions = CSVWriteOptions()) throws -> String {
    let bytes = try captureOutput { descriptor in
        let writer = try CSVWriter(descriptor: descriptor, schema: schema, options: options)
        for batch in batches { try writer.write(batch) }
        try writer.finish()
    }
    return String(decoding: bytes, as: UTF8.self)
}

/// The batches written as JSON lines.
func writeJSONLines(_ batches: [RecordBatch], schema: Schema) throws -> String {
    let bytes = try captureOutput { descriptor in
        let writer = JSONLinesWriter(descriptor: descriptor, schema: schema)
        for batch in batches { try writer.write(batch) }
        try writer.finish()
    }
    return String(decoding: bytes, as: UTF8.self)
}

/// Reads a CSV text and writes it back.
func roundTrip(_ text: String, read: CSVReadOptions = CSVReadOptions(), write: CSVWriteOptions = CSVWriteOptions()) throws -> String {
    let (schema, batches) = try readCSV(text, read)
    return try writeCSV(batches, schema: schema, write)
}

/// The values of every row, batch after batch.
func rows(_ batches: [RecordBatch]) -> [[Value]] {
    batches.flatMap { batch in
        (0..<batch.count).map { row in batch.columns.map { $0.value(row) } }
    }
}

/// The values of one column across batches.
func columnValues(_ batches: [RecordBatch], _ index: Int) -> [Value] {
    batches.flatMap { batch in (0..<batch.count).map { batch.columns[index].value($0) } }
}

/// A batch built from columns of values with the given types.
func makeBatch(_ columns: [(String, LogicalType, [Value])]) -> RecordBatch {
    var builder = BatchBuilder(schema: Schema(columns.map { Field(name: $0.0, type: $0.1) }), capacity: 4)
    for (index, column) in columns.enumerated() {
        for value in column.2 { builder.columns[index].append(value) }
    }
    return builder.finish()
}

/// The error a throwing call ends with.
func dataError(_ body: () throws -> Void) -> DataError? {
    do {
        try body()
        return nil
    } catch let error as DataError {
        return error
    } catch {
        return nil
    }
}

/// Reads a CSV text through a pipe (which cannot be scanned twice) with `body`, writing it from
/// another thread; returns the data error the reader ended with, if any.
func readPipe(
    _ text: String, _ options: CSVReadOptions = CSVReadOptions(), _ body: (CSVReader) throws -> Void
) throws -> DataError? {
    var ends: [Int32] = [0, 0]
    precondition(pipe(&ends) == 0)
    let bytes = Array(text.utf8)
    let writerEnd = ends[1]
    let writer = Thread {
        bytes.withUnsafeBytes { buffer in
            var offset = 0
            while offset < buffer.count {
                let written = write(writerEnd, buffer.baseAddress! + offset, buffer.count - offset)
                if written <= 0 { break }
                offset += written
            }
        }
        close(writerEnd)
    }
    writer.start()
    defer {
        // Drain what the reader left so the writer thread ends, then close.
        var sink = [UInt8](repeating: 0, count: 65_536)
        while read(ends[0], &sink, sink.count) > 0 {}
        close(ends[0])
    }
    do {
        let reader = try CSVReader(descriptor: ends[0], name: "pipe", options: options)
        defer { reader.close() }
        try body(reader)
        return nil
    } catch let error as DataError {
        return error
    }
}
