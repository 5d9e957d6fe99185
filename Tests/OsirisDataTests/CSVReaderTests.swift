import OsirisCore
import Testing
import OsirisData

#if canImport(Glibc)
import Glibc
#endif

@Suite struct CSVReaderTests {
    private func textOptions() -> CSVReadOptions {
        var options = CSVReadOptions()
        options.inferTypes = false
        return options
    }

    @Test func unquotedEmptyIsNullAndQuotedEmptyIsEmptyString() throws {
        let (_, batches) = try readCSV("a,b\n,\"\"\n", textOptions())
        #expect(rows(batches) == [[.null, .text("", .text)]])
    }

    @Test(arguments: ["a,b\n1,2\n3,4\n", "a,b\r\n1,2\r\n3,4\r\n", "a,b\r1,2\r3,4\r", "a,b\n1,2\n3,4", "\u{FEFF}a,b\n1,2\n3,4\n"])
    func lineEndingsAndByteOrderMark(_ text: String) throws {
        let (schema, batches) = try readCSV(text)
        #expect(schema.names == ["a", "b"])
        #expect(rows(batches) == [[.int64(1), .int64(2)], [.int64(3), .int64(4)]])
    }

    @Test func quotedFieldsHoldDelimitersQuotesAndLineBreaks() throws {
        let (_, batches) = try readCSV("a,b\n\"x,\"\"y\"\"\r\nz\",\"\r\"\n", textOptions())
        #expect(rows(batches) == [[.text("x,\"y\"\r\nz", .text), .text("\r", .text)]])
    }

    @Test func headerNamesEmptyAndDuplicated() throws {
        let (schema, _) = try readCSV("id,,name,id,id,name_2\n1,2,3,4,5,6\n")
        #expect(schema.names == ["id", "column_2", "name", "id_2", "id_3", "name_2"])
        #expect(try readCSV("a,a,a_2\n").schema.names == ["a", "a_2", "a_2_2"])
    }

    @Test func noHeaderNamesColumnsByPosition() throws {
        var options = CSVReadOptions()
        options.header = false
        let (schema, batches) = try readCSV("1,x\n2,y\n", options)
        #expect(schema.names == ["column_1", "column_2"])
        #expect(rows(batches) == [[.int64(1), .text("x", .text)], [.int64(2), .text("y", .text)]])
    }

    @Test func skipRowsAndHeaderRow() throws {
        var options = CSVReadOptions()
        options.skipRows = 1
        options.headerRow = 1
        let (schema, batches) = try readCSV("exported by tool\n\"notes\nover two lines\"\nid,name\n1,a\n", options)
        #expect(schema.names == ["id", "name"])
        #expect(rows(batches) == [[.int64(1), .text("a", .text)]])
    }

    @Test func skipRowsWithoutHeader() throws {
        var options = CSVReadOptions()
        options.header = false
        options.skipRows = 2
        let (schema, batches) = try readCSV("x\ny\n1\n2\n", options)
        #expect(schema.names == ["column_1"])
        #expect(rows(batches) == [[.int64(1)], [.int64(2)]])
    }

    @Test func limitStopsAfterThatManyRows() throws {
        var options = CSVReadOptions()
        options.limit = 3
        options.batchSize = 2
        let path = "a\n1\n2\n3\n4\n5\n"
        let (_, batches) = try readCSV(path, options)
        #expect(batches.map(\.count) == [2, 1])
        #expect(rows(batches) == [[.int64(1)], [.int64(2)], [.int64(3)]])
    }

    @Test func limitZeroReadsOnlyTheHeader() throws {
        var options = CSVReadOptions()
        options.limit = 0
        let (schema, batches) = try readCSV("a,b\n1,2\n", options)
        #expect(schema.fields == [Field(name: "a", type: .text), Field(name: "b", type: .text)])
        #expect(batches.isEmpty)
    }

    @Test func naValuesAreNullQuotedOrNot() throws {
        var options = CSVReadOptions()
        options.naValues = ["NA", "n/a", "\"q\""]
        let (schema, batches) = try readCSV("a,b\nNA,1\n\"n/a\",NA\n\"\"\"q\"\"\",2\nNAN,3\n", options)
        #expect(schema.fields.map(\.type) == [.text, .int64])
        #expect(rows(batches) == [[.null, .int64(1)], [.null, .null], [.null, .int64(2)], [.text("NAN", .text), .int64(3)]])
    }

    @Test func columnsSelectsAndOrders() throws {
        var options = CSVReadOptions()
        options.columns = ["c", "a"]
        let (schema, batches) = try readCSV("a,b,c\n1,x,true\n2,y\n", options)
        #expect(schema.names == ["c", "a"])
        #expect(schema.fields.map(\.type) == [.bool, .int64])
        #expect(rows(batches) == [[.bool(true), .int64(1)], [.null, .int64(2)]])
    }

    @Test func missingColumnIsNamed() throws {
        var options = CSVReadOptions()
        options.columns = ["nmae"]
        let error = dataError { _ = try readCSV("id,name\n1,a\n", options) }
        #expect(error?.kind == .notFound)
        #expect(error?.message == "column 'nmae' is not in the file; did you mean 'name'?")

        options.columns = ["total"]
        let other = dataError { _ = try readCSV("id,name\n1,a\n", options) }
        #expect(other?.message == "column 'total' is not in the file; its columns are 'id' and 'name'")
    }

    @Test func tooManyFieldsNamesTheLineTheRecordStartsOn() throws {
        let error = dataError { _ = try readCSV("a,b\n\"x\ny\",1\r\n1,2\n3,4,5\n") }
        #expect(error?.kind == .malformed)
        #expect(error?.line == 5)
        #expect(error?.message == "record has 3 fields, but the header has 2")
        #expect(error?.description.hasSuffix(".csv:5: record has 3 fields, but the header has 2") == true)
    }

    @Test func tooFewFieldsArePaddedWithNulls() throws {
        let (_, batches) = try readCSV("a,b,c\n1\n2,x\n", textOptions())
        #expect(rows(batches) == [
            [.text("1", .text), .null, .null],
            [.text("2", .text), .text("x", .text), .null],
        ])
    }

    @Test func blankLinesAreSkippedUnlessTheFileHasOneColumn() throws {
        let (_, several) = try readCSV("a,b\n1,2\n\n3,4\n\n")
        #expect(rows(several) == [[.int64(1), .int64(2)], [.int64(3), .int64(4)]])
        let (_, single) = try readCSV("a\n1\n\n3\n")
        #expect(rows(single) == [[.int64(1)], [.null], [.int64(3)]])
    }

    @Test func unterminatedQuoteIsAnError() throws {
        let error = dataError { _ = try readCSV("a,b\n1,2\n3,\"open\nstill open\n") }
        #expect(error?.kind == .malformed)
        #expect(error?.line == 3)
        #expect(error?.message == "a quoted field is never closed")
    }

    @Test func textAfterAClosingQuoteIsAnError() throws {
        let error = dataError { _ = try readCSV("a\n\"x\"y\n") }
        #expect(error?.kind == .malformed)
        #expect(error?.line == 2)
    }

    @Test func quoteInsideAnUnquotedFieldIsText() throws {
        let (_, batches) = try readCSV("height\n5'11\"\n", textOptions())
        #expect(rows(batches) == [[.text("5'11\"", .text)]])
    }

    @Test func encodingOtherThanUTF8IsRefused() throws {
        var options = CSVReadOptions()
        options.encoding = "latin-1"
        let error = dataError { _ = try readCSV("a\n1\n", options) }
        #expect(error == DataError(.unsupported,
            "encoding 'latin-1' is not supported yet; convert the file to UTF-8 (for example with iconv -f latin1 -t utf-8)"))
        options.encoding = "UTF8"
        #expect(try readCSV("a\n1\n", options).batches.count == 1)
    }

    @Test func missingFileIsNotFound() {
        let error = dataError { _ = try CSVReader(path: "/nonexistent/osiris.csv", options: CSVReadOptions()) }
        #expect(error?.kind == .notFound)
        #expect(error?.description == "/nonexistent/osiris.csv: cannot open: No such file or directory")
    }

    @Test func emptyFileHasNoColumnsAndNoBatches() throws {
        let (schema, batches) = try readCSV("")
        #expect(schema.fields.isEmpty)
        #expect(batches.isEmpty)
    }

    @Test func recordsLongerThanTheReadBufferAreRead() throws {
        let long = String(repeating: "x", count: 3 << 20)
        let (_, batches) = try readCSV("a,b\n1,\"\(long)\"\n2,\(long)\n")
        #expect(batches.count == 1)
        #expect(batches[0].columns[1].string(0).utf8.count == 3 << 20)
        #expect(batches[0].columns[1].string(1) == long)
    }

    @Test func readsFromADescriptorAndCountsBytesAndRows() throws {
        let text = "a,b\n1,2\n3,4\n"
        try withTemporaryFile(Array(text.utf8)) { path in
            let descriptor = open(path, O_RDONLY)
            defer { close(descriptor) }
            let reader = try CSVReader(descriptor: descriptor, name: "stdin", options: CSVReadOptions())
            var count = 0
            while let batch = try reader.next() { count += batch.count }
            #expect(count == 2)
            #expect(reader.rowsRead == 2)
            #expect(reader.bytesRead == text.utf8.count)
            reader.close()
        }
    }
}
