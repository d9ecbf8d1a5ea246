import Settings
import Foundation
import Portal
import Testing

@Suite struct ConfigurationTests {
    @Test func theShippedExampleFileLoads() throws {
        let text = try String(contentsOf: OpenAPITests.root.appendingPathComponent("deploy/controller.example.yaml"), encoding: .utf8)
        var settings = ControllerConfiguration()
        try settings.apply(yaml: text)
        #expect(settings.listen == "0.0.0.0:8080")
        #expect(settings.logFormat == "json")
        #expect(settings.effectivePublicURL == "https://metalplane.example.com")
    }

    @Test func environmentOverridesTheFileAndFlagsOverrideBoth() throws {
        var settings = ControllerConfiguration()
        try settings.apply(yaml: "listen: 127.0.0.1:9000\nlogLevel: debug\n")
        try settings.apply(environment: ["METALPLANE_LISTEN": "127.0.0.1:9100", "METALPLANE_DATA_DIR": "/tmp/x"])
        #expect(settings.listen == "127.0.0.1:9100")
        #expect(settings.logLevel == "debug")
        try settings.set("listen", "127.0.0.1:9200")
        #expect(try settings.listenAddress() == ("127.0.0.1", 9200))
        #expect(settings.dataDirectory == "/tmp/x")
        #expect(settings.effectivePublicURL == "http://127.0.0.1:9200")
    }

    @Test func badValuesAreRefusedByName() {
        var settings = ControllerConfiguration()
        #expect(throws: ConfigurationError.invalid(key: "maxBodyBytes", reason: "must be an integer in 1024…1073741824, got lots")) {
            try settings.set("maxBodyBytes", "lots")
        }
        #expect(throws: ConfigurationError.self) { try settings.set("listen", "nowhere") }
        #expect(throws: ConfigurationError.self) { try settings.apply(yaml: "colour: blue") }
        #expect(throws: ConfigurationError.self) { try settings.apply(yaml: "- a list") }
        #expect(settings.listen == "127.0.0.1:8080")
    }
}
