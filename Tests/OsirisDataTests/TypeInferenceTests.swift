import Testing
import OsirisData

@Suite struct TypeInferenceTests {
    private func inferred(_ values: [String]) throws -> Field {
        try readCSV("v\n" + values.map { $0 + "\n" }.joined()).schema.fields[0]
    }

    @Test(arguments: [
        (["1", "-22", "0", "9223372036854775807"], LogicalType.int64),
        (["1", ""], .int64),
        (["007"], .text),
        (["-0"], .text),
        (["+5"], .text),
        (["9223372036854775808"], .decimal),
        (["12.50", "3", "-0.5"], .decimal),
        (["1.", ".5"], .text),
        (["1e-05", "2.5", "1e+16"], .float64),
        (["1e5"], .text),
        (["1e-05", "3"], .text),
        (["3", "1e-05"], .text),
        (["0.5", "1e-05", "123.25"], .float64),
        (["0.50", "1e-05"], .text),
        (["0.00001", "1e-05"], .text),
        (["2024-05-01", "1e-05"], .text),
        (["true", "false"], .bool),
        (["True"], .text),
        (["TRUE", "FALSE"], .text),
        (["2024-05-01", "1999-12-31"], .date),
        (["2024-13-01"], .text),
        (["13:45:00", "00:00:00.123"], .time),
        (["24:00:00"], .text),
        (["2024-05-01 13:45:00", "2024-05-01T13:45:00.123456"], .timestamp),
        (["2024-05-01T13:45:00Z", "2024-05-01 13:45:00+02:00", "2024-05-01 13:45:00-08", "2024-05-01 13:45:00+0530"], .timestamptz),
        (["2024-05-01", "2024-05-01 13:45:00"], .text),
        (["2024-05-01 13:45:00", "2024-05-01 13:45:00Z"], .text),
        (["abc", "1"], .text),
        ([" 1"], .text),
        ([""], .text),
    ] as [([String], LogicalType)])
    func inferredType(_ values: [String], _ type: LogicalType) throws {
        #expect(try inferred(values).type == type)
    }

    @Test func decimalPrecisionAndScale() throws {
        let field = try inferred(["12345.1", "1.12345", "-0.5", "7"])
        #expect(field.type == .decimal)
        #expect(field.precision == 10)
        #expect(field.scale == 5)
    }

    @Test func fileIsScannedSoAnAllNullFirstBatchStillGetsItsType() throws {
        var options = CSVReadOptions()
        options.batchSize = 2
        let (schema, batches) = try readCSV("a,b\n,1\n,2\n5,3\n", options)
        #expect(schema.fields.map(\.type) == [.int64, .int64])
        #expect(batches.map(\.schema) == [schema, schema])
        #expect(columnValues(batches, 0) == [.null, .null, .int64(5)])
    }

    @Test func fileWithALaterValueThatDoesNotFitIsTextInEveryBatch() throws {
        var options = CSVReadOptions()
        options.batchSize = 2
        let (schema, batches) = try readCSV("n,d,b\n1,2024-01-01,true\n2,2024-01-02,false\nx,2024-01-03,true\n3,soon,maybe\n4,2024-01-05,false\n", options)
        #expect(schema.fields.map(\.type) == [.text, .text, .text])
        #expect(batches.map(\.schema) == [schema, schema, schema])
        #expect(columnValues(batches, 0) == ["1", "2", "x", "3", "4"].map { .text($0, .text) })
    }

    @Test func decimalPrecisionAndScaleCoverEveryRow() throws {
        var options = CSVReadOptions()
        options.batchSize = 1
        let (schema, batches) = try readCSV("p\n1.5\n123.25\n", options)
        #expect(schema.fields[0] == Field(name: "p", type: .decimal, precision: 5, scale: 2))
        #expect(batches.map(\.schema) == [schema, schema])
        #expect(try readCSV("p\n1.5\n123.25\n1e3\n", options).schema.fields[0] == Field(name: "p", type: .text))
    }

    @Test func integerOverflowInALaterRowMakesTheColumnDecimal() throws {
        var options = CSVReadOptions()
        options.batchSize = 1
        let (schema, batches) = try readCSV("n\n1\n99999999999999999999\n", options)
        #expect(schema.fields[0] == Field(name: "n", type: .decimal, precision: 20, scale: 0))
        #expect(columnValues(batches, 0) == [.text("1", .decimal), .text("99999999999999999999", .decimal)])
    }

    @Test func limitBoundsTheScan() throws {
        var options = CSVReadOptions()
        options.limit = 2
        let (schema, batches) = try readCSV("n\n1\n2\nx\n", options)
        #expect(schema.fields[0].type == .int64)
        #expect(columnValues(batches, 0) == [.int64(1), .int64(2)])
    }

    /// 100K integers, then a text value on line 100,002.
    static let integersThenText: String = {
        var text = "id,amount\n"
        for row in 0..<100_000 { text += "\(row),\(row % 977)\n" }
        return text + "100000,abc\n100001,5\n"
    }()

    @Test func integersThenTextInAFileAreTextInEveryBatch() throws {
        let (schema, batches) = try readCSV(Self.integersThenText)
        #expect(schema.fields.map(\.type) == [.int64, .text])
        #expect(batches.count == 2)
        #expect(batches.allSatisfy { $0.schema == schema })
        #expect(batches.map(\.count).reduce(0, +) == 100_002)
        #expect(batches[1].columns[1].string(100_000 - 65_536) == "abc")
    }

    @Test func integersThenTextInAPipeFailNamingLineColumnAndValue() throws {
        var schemas: [Schema] = []
        let error = try readPipe(Self.integersThenText) { reader in
            while let batch = try reader.next() { schemas.append(batch.schema) }
        }
        #expect(error?.kind == .typeMismatch)
        #expect(error?.line == 100_002)
        #expect(error?.column == "amount")
        #expect(error?.description == """
            pipe:100002: column 2 ('amount'): value 'abc' is not int64 (the type inferred from the first 65536 rows; \
            a pipe cannot be read twice to check every row)
            """)
        #expect(schemas == [Schema([Field(name: "id", type: .int64), Field(name: "amount", type: .int64)])])
    }

    @Test func pipeDecimalsKeepNoFixedPrecision() throws {
        var options = CSVReadOptions()
        options.batchSize = 1
        var batches: [RecordBatch] = []
        let error = try readPipe("p\n1.5\n123.25\n", options) { reader in
            while let batch = try reader.next() { batches.append(batch) }
        }
        #expect(error == nil)
        #expect(batches.map(\.schema) == Array(repeating: Schema([Field(name: "p", type: .decimal)]), count: 2))
    }

    @Test func declaredTypesAreKeptAndCheckedBeforeTheFirstBatch() throws {
        var options = CSVReadOptions()
        options.columnTypes = ["zip": .text, "n": .int64]
        let (schema, batches) = try readCSV("zip,n\n007,1\n010,2\n", options)
        #expect(schema.fields.map(\.type) == [.text, .int64])
        #expect(columnValues(batches, 0) == [.text("007", .text), .text("010", .text)])

        let error = dataError { _ = try readCSV("zip,n\n007,1\n010,x2\n", options) }
        #expect(error?.kind == .typeMismatch)
        #expect(error?.line == 3)
        #expect(error?.message == "column 2 ('n'): value 'x2' is not int64 (the declared type)")

        options.columnTypes = ["nope": .text]
        #expect(dataError { _ = try readCSV("zip,n\n1,2\n", options) }?.message == "a type is declared for column 'nope', which is not in the file")
    }

    @Test func inferenceOffKeepsEveryColumnText() throws {
        var options = CSVReadOptions()
        options.inferTypes = false
        let (schema, batches) = try readCSV("a,b\n1,true\n", options)
        #expect(schema.fields.map(\.type) == [.text, .text])
        #expect(rows(batches) == [[.text("1", .text), .text("true", .text)]])
    }

    @Test func valuesOfInferredTypes() throws {
        let (_, batches) = try readCSV("i,d,f,b,t\n-42,12.50,1e-05,false,2024-05-01 13:45:00\n")
        #expect(rows(batches) == [[.int64(-42), .text("12.50", .decimal), .float64(1e-05), .bool(false),
                                   .text("2024-05-01 13:45:00", .timestamp)]])
    }
}
