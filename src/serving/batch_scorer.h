// Batch scoring: streams a CSV of any size through a model and writes a CSV of its predictions
// (and, optionally, per-row SHAP contributions) in input order, with memory bounded whatever
// the input's size — the engine of `cairn batch-score`.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.h"
#include "ml/scorer.h"

namespace cairn::serving {

// ---------------------------------------------------------------------------------------------
// The output, exactly:
//  - The header, then one row per input row, in input order, LF line endings.
//  - First the input columns kept: all of them by default (each row copied as it was written,
//    quoting included, a CRLF ending turned into LF), the ones BatchScoreOptions::output_columns
//    names (in that order), or none with predictions_only.
//  - Then the prediction columns (PredictionColumns):
//      binary       prediction (P(positive class), the model's classes()[1]), predicted_label
//      multiclass   proba_<class> for each class, predicted_label
//      regression   prediction
//  - With `explain`, the TreeSHAP contributions in margin space (they sum, with the bias, to the
//    untransformed prediction: log-odds for binary): shap_<feature> per feature and shap_bias;
//    multiclass models have one set per class, shap_<class>_<feature> and shap_<class>_bias.
//  - Numbers are floats in their shortest round-trip form (std::to_chars); a field holding a
//    ',', '"', CR or LF is quoted per RFC 4180, '"' doubled.
// Input rows are read as csv_reader.h reads them (RFC 4180, strict) and encoded as the model's
// Preprocessing::Transform encodes a table: feature columns matched by name, the same values
// for the same text. Row by row, so a categorical value is matched by its text first and by its
// number's canonical text ("3" for "3.0") when that text is not a category.
// ---------------------------------------------------------------------------------------------

// Where the input comes from. Not shared between threads.
class ByteSource {
 public:
  virtual ~ByteSource() = default;
  // Reads up to `size` bytes into `buffer`: the number read, 0 at the end of the input.
  virtual Result<size_t> Read(char* buffer, size_t size) = 0;
  // How errors name the input ("in.csv", "<stdin>"); empty: not named.
  virtual std::string Name() const = 0;
};

// Where the output goes. Called from one thread at a time.
class ByteSink {
 public:
  virtual ~ByteSink() = default;
  // Writes all of `bytes` or fails (naming the sink).
  virtual Status Write(std::string_view bytes) = 0;
};

// A file descriptor as a source or sink (not owned). Errors name `name`.
class FdSource : public ByteSource {
 public:
  FdSource(int fd, std::string name) : fd_(fd), name_(std::move(name)) {}
  Result<size_t> Read(char* buffer, size_t size) override;
  std::string Name() const override { return name_; }

 private:
  int fd_;
  std::string name_;
};

class FdSink : public ByteSink {
 public:
  FdSink(int fd, std::string name) : fd_(fd), name_(std::move(name)) {}
  Status Write(std::string_view bytes) override;

 private:
  int fd_;
  std::string name_;
};

struct BatchProgress {
  int64_t rows = 0;           // rows written so far
  int64_t bytes_read = 0;     // input bytes those rows (and the header) took
  int64_t bytes_written = 0;  // output bytes written so far
};

struct BatchScoreOptions {
  // Workers that encode, predict and format blocks (besides a reader and a writer thread,
  // which mostly wait on I/O). At least 1.
  int threads = 2;
  // Input bytes per block: the unit of parallel work and of memory. Memory stays below about
  // (2 × threads + 2) blocks of input, their encoded rows and their output, plus the longest row.
  size_t block_bytes = size_t{4} << 20;
  // Add the SHAP contribution columns (costly: TreeSHAP is ~depth² times a prediction).
  bool explain = false;
  // The input columns to copy before the predictions, in this order; empty: all of them.
  std::vector<std::string> output_columns;
  // Copy no input column (exclusive with output_columns).
  bool predictions_only = false;
  // A row longer than this (with its neighbours, about the block) ends the fast path: the rest
  // of the input is parsed row by row, which takes rows of any length, more slowly.
  size_t long_row_bytes = size_t{64} << 20;
  // Called after each block is written (from the writer thread), and once at the end.
  std::function<void(const BatchProgress&)> on_progress;
};

struct BatchScoreSummary {
  int64_t rows = 0;
  int64_t bytes_read = 0;
  int64_t bytes_written = 0;
  std::vector<std::string> columns;  // the output's header
};

// The prediction columns (and, with `explain`, the SHAP columns) of `model`'s output, as above.
std::vector<std::string> PredictionColumns(const ml::LoadedModel& model, bool explain);

// Scores every row of `input` into `output`. kInvalidArgument, prefixed with the input's name:
//  - the input is not valid CSV (csv_reader.h's message: line, column and header name);
//  - the model's feature column is not in the input, or an output column is unknown, repeated,
//    or collides with a prediction column (naming it);
//  - a value does not fit its feature ("line 17, column 6 (tenure): 'abc' is not a number, and
//    the model takes numbers there").
// The first error in input order is reported, and nothing after the rows before it has been
// written (the caller decides what to do with that partial output: BatchScoreFile removes it).
// Errors of the sink come back as the sink gave them.
Result<BatchScoreSummary> BatchScore(const ml::LoadedModel& model, ByteSource& input,
                                     ByteSink& output, const BatchScoreOptions& options);

// BatchScore from the file `input_path` ("-": stdin) to `output_path` ("-": stdout). A file
// output is written to a temporary file beside it and renamed over it once complete, so an
// error leaves no partial output behind (and an existing file untouched); its mode follows the
// umask, as a new file's would.
Result<BatchScoreSummary> BatchScoreFile(const ml::LoadedModel& model,
                                         const std::string& input_path,
                                         const std::string& output_path,
                                         const BatchScoreOptions& options);

// Appends `field` to `out` as one CSV field, quoted when it holds ',', '"', CR or LF.
void AppendCsvField(std::string& out, std::string_view field);

}  // namespace cairn::serving
