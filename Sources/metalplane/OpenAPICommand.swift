import ArgumentParser
import Foundation
import Logging
import Portal

/// `metalplane openapi`: prints the OpenAPI document the controller serves, for docs/openapi.json.
struct OpenAPICommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "openapi", abstract: "Print the controller's OpenAPI 3.1 document.")

    @Option(help: "Write to this file instead of stdout.")
    var output: String?

    func run() async throws {
        let scratch = FileManager.default.temporaryDirectory.appendingPathComponent("metalplane-openapi-\(getpid())").path
        defer { try? FileManager.default.removeItem(atPath: scratch) }
        var settings = ControllerConfiguration()
        settings.dataDirectory = scratch
        settings.passwordHashCost = 4
        var logger = Logger(label: "metalplane")
        logger.logLevel = .error
        let runtime = try await ControllerRuntime.open(settings, environment: ["METALPLANE_BOOTSTRAP_PASSWORD": "openapi-only"], logger: logger)
        let document = runtime.openAPIDocument()
        await runtime.close()
        // Pretty-printed so docs/openapi.json diffs well.
        let object = try JSONSerialization.jsonObject(with: Data(document))
        let pretty = try JSONSerialization.data(withJSONObject: object, options: [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes])
        if let output {
            try (pretty + Data("\n".utf8)).write(to: URL(fileURLWithPath: output))
        } else {
            FileHandle.standardOutput.write(pretty + Data("\n".utf8))
        }
    }
}
