import Testing
import OsirisData

/// Reading a CSV file and writing it back with the default options gives the same bytes.
@Suite struct CSVRoundTripTests {
    @Test(arguments: [
        "a,b\n1,2\n3,4\n",
        "quote,other\n\"he said \"\"hi\"\"\",x\n\"\"\"\",\"a\"\"\"\n",
        "a,b\n\"x,y\",z\n\",\",\",,\"\n",
        "a,b\n\"line 1\nline 2\",z\n\"cr\rlf\r\n\",y\n",
        "a,b,c\n,\"\",x\n\"\",,\n",
        "name,city\nZoë,São Paulo\n😀,東京\nÅngström,Straße\n",
        "code,zip\n007,01234\n010,00000\n",
        "price,rate\n12.50,0.10\n-3.00,100.000\n0.0,1\n",
        "at,day\n2024-05-01T13:45:00+02:00,2024-05-01\n2024-12-31 23:59:59.123456Z,1999-12-31\n",
        "local\n2024-05-01 13:45:00\n2024-05-01T00:00:00.5\n",
        "a,b\n   ,x\n  y  , \n",
        "n\n0\n-5\n9223372036854775807\n-9223372036854775808\n",
        "huge\n99999999999999999999\n1\n-123456789012345678901234567890\n",
        "f\n1e-05\n2.5\n1e+16\n-0.001\n",
        "flag\ntrue\nfalse\n\ntrue\n",
        "mixed\n1\nabc\n2.5\n",
        "not_numbers\n-0\n1.\n.5\n+1\n1e5\n1E-3\n",
        "t,z\n13:45:00,2024-05-01 10:00:00+0530\n00:00:00.25,2024-05-01 10:00:00-08\n",
        "tab\tinside,x\na\tb,1\n",
        "only\n\"\"\n\n \n",
    ])
    func defaultOptionsGiveTheSameBytes(_ text: String) throws {
        #expect(try roundTrip(text) == text)
    }

    @Test func roundTripHoldsAcrossSmallBatches() throws {
        var options = CSVReadOptions()
        options.batchSize = 2
        let text = "id,price,name\n1,1.50,a\n2,2.25,\"b,c\"\n3,x,\n4,4.125,\"\"\n5,5.0,e\n"
        #expect(try roundTrip(text, read: options) == text)
    }

    @Test func crlfFilesRoundTripWithCRLFNewlines() throws {
        var write = CSVWriteOptions()
        write.newline = .crlf
        let text = "a,b\r\n1,\"x\r\ny\"\r\n,\"\"\r\n"
        #expect(try roundTrip(text, write: write) == text)
    }

    @Test func semicolonFilesRoundTripWithTheSameDelimiter() throws {
        var read = CSVReadOptions()
        read.delimiter = UInt8(ascii: ";")
        var write = CSVWriteOptions()
        write.delimiter = UInt8(ascii: ";")
        let text = "a;b\n1,5;\"x;y\"\n2;3\n"
        #expect(try roundTrip(text, read: read, write: write) == text)
    }

    @Test func typesInferredForTheRoundTripCases() throws {
        let (schema, _) = try readCSV("code,price,n,at,flag,f,huge\n007,12.50,-5,2024-05-01T13:45:00+02:00,true,1e-05,99999999999999999999\n")
        #expect(schema.fields.map(\.type) == [.text, .decimal, .int64, .timestamptz, .bool, .float64, .decimal])
        #expect(schema.fields[1].precision == 4)
        #expect(schema.fields[1].scale == 2)
        #expect(schema.fields[6].precision == 20)
        #expect(schema.fields[6].scale == 0)
    }
}
