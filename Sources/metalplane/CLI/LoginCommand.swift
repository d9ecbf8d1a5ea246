import ArgumentParser
import Foundation
import ControllerClient

/// `metalplane login`: password sign-in to a realm; caches the tokens for `api` and `whoami`.
struct LoginCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "login",
        abstract: "Sign in with a username and password and cache the tokens (0600 file).",
        discussion: "The password is read from --password-stdin, METALPLANE_PASSWORD, or a prompt on the terminal.")

    @Option(help: "Controller URL (or METALPLANE_SERVER).")
    var server: String?

    @Option(help: "Realm to sign in to.")
    var realm = "platform"

    @Option(help: "Username.")
    var username = "admin"

    @Option(name: .customLong("client-id"), help: "Public OAuth client to sign in through.")
    var clientID = "metalplane-cli"

    @Flag(name: .customLong("password-stdin"), help: "Read the password from standard input.")
    var passwordStdin = false

    func run() async throws {
        let environment = ProcessInfo.processInfo.environment
        let base = (server ?? environment["METALPLANE_SERVER"] ?? "http://127.0.0.1:8080").trimmingSuffix("/")
        let password: String
        if passwordStdin {
            password = readLine(strippingNewline: true) ?? ""
        } else if let fromEnvironment = environment["METALPLANE_PASSWORD"] {
            password = fromEnvironment
        } else {
            password = String(cString: getpass("Password for \(username)@\(realm): "))
        }
        let tokens = try await TokenClient.passwordGrant(server: base, realm: realm, clientID: clientID, username: username, password: password)
        try CredentialStore.save(StoredCredentials(server: base, realm: realm, clientId: clientID, username: username,
                                                   accessToken: tokens.accessToken, refreshToken: tokens.refreshToken,
                                                   accessExpiresAt: Date().timeIntervalSince1970 + Double(tokens.expiresIn)))
        print("Logged in to \(base) as \(username) (realm \(realm)); credentials in \(CredentialStore.path)")
    }
}

extension String {
    func trimmingSuffix(_ suffix: String) -> String { hasSuffix(suffix) ? String(dropLast(suffix.count)) : self }
}
