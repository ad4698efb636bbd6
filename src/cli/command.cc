#include "cli/command.h"

#include <iostream>

#include "cli/output.h"
#include "client/uri.h"

namespace cairn::cli {

Session::Session(const GlobalOptions& options, std::ostream& out)
    : options_(options),
      format_(options.output == "json" ? OutputFormat::kJson : OutputFormat::kTable),
      out_(out),
      tracking_uri_(client::ResolveTrackingUri(options.tracking_uri)) {}

Session::~Session() = default;

Result<client::TrackingClient*> Session::Client() {
  if (client_ == nullptr) {
    CAIRN_TRY(client_, client::TrackingClient::Connect(tracking_uri_));
  }
  return client_.get();
}

int ReportError(const Status& status) {
  if (status.ok()) return kExitOk;
  std::string message = OneLine(status.message());
  if (message.empty()) message = std::string(StatusCodeName(status.code()));
  std::cout.flush();
  std::cerr << "error: " << message << "\n";
  return kExitFailure;
}

void SetCommand(GlobalOptions& options, Command command) {
  const GlobalOptions* opts = &options;
  options.action = [opts, command = std::move(command)]() {
    Session session(*opts, std::cout);
    Status status = command(session);
    std::cout.flush();
    if (status.ok()) return session.exit_code();
    return ReportError(status);
  };
}

}  // namespace cairn::cli
