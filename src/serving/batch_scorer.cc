#include "serving/batch_scorer.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cmath>
#include <condition_variable>
#include <cstring>
#include <deque>
#include <filesystem>
#include <limits>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <thread>
#include <unordered_map>
#include <unordered_set>

#include "data/csv_reader.h"
#include "ml/tabular.h"
#include "ml/xgboost_booster.h"

namespace cairn::serving {
namespace {

namespace fs = std::filesystem;

constexpr float kNaN = std::numeric_limits<float>::quiet_NaN();
constexpr std::string_view kBom = "\xEF\xBB\xBF";
// The longest header row read.
constexpr size_t kMaxRowBytes = size_t{64} << 20;
// The first look past a block's target for the end of its last row; doubled while too short.
constexpr size_t kRowSlack = size_t{64} << 10;
constexpr size_t kMaxRead = size_t{8} << 20;  // bytes asked of one read()

std::string Quote(std::string_view s) { return "'" + std::string(s) + "'"; }

// "a, b, c" (at most 12, then how many in all).
std::string List(const std::vector<std::string>& items) {
  std::string out;
  for (size_t i = 0; i < items.size() && i < 12; ++i) out += (i ? ", " : "") + items[i];
  if (items.size() > 12) out += ", … (" + std::to_string(items.size()) + " in all)";
  return out;
}

Status Prefixed(std::string_view name, const Status& status) {
  if (status.ok() || name.empty()) return status;
  return Status(status.code(), std::string(name) + ": " + status.message());
}

// CsvParser's messages start with "line N"; a parser that saw the file's rows `shift` lines
// later than they are (it was fed the header, then the input from the middle) is corrected here.
Status ShiftLines(const Status& status, int64_t shift) {
  const std::string& m = status.message();
  if (shift == 0 || m.rfind("line ", 0) != 0) return status;
  size_t i = 5;
  int64_t n = 0;
  while (i < m.size() && m[i] >= '0' && m[i] <= '9') n = n * 10 + (m[i++] - '0');
  if (i == 5) return status;
  return Status(status.code(), "line " + std::to_string(n + shift) + m.substr(i));
}

bool NeedsQuotes(std::string_view field) {
  for (char c : field) {
    if (c == ',' || c == '"' || c == '\n' || c == '\r') return true;
  }
  return false;
}

void AppendFloat(std::string& out, float v) {
  if (std::isnan(v)) return;  // an empty field: missing
  char buffer[32];
  const auto [end, ec] = std::to_chars(buffer, buffer + sizeof buffer, v);
  out.append(buffer, end);
}

// ---------------------------------------------------------------------------------------------
// The plan: how each feature is read from the input's columns, and what the output holds.

struct StringHash {
  using is_transparent = void;
  size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
};

// A categorical feature's categories → their codes. Most have a handful of categories, which a
// scan finds faster than a hash; many go to a hash map.
class CategoryCodes {
 public:
  explicit CategoryCodes(const std::vector<std::string>& categories) {
    if (categories.size() <= kScanMax) {
      small_ = categories;
    } else {
      for (size_t k = 0; k < categories.size(); ++k) {
        large_.emplace(categories[k], static_cast<float>(k));
      }
    }
  }
  // The code of `text`, or NaN when it is not a category.
  float Find(std::string_view text) const {
    if (large_.empty()) {
      for (size_t k = 0; k < small_.size(); ++k) {
        if (small_[k].size() == text.size() &&
            std::memcmp(small_[k].data(), text.data(), text.size()) == 0) {
          return static_cast<float>(k);
        }
      }
      return kNaN;
    }
    const auto it = large_.find(text);
    return it == large_.end() ? kNaN : it->second;
  }

 private:
  static constexpr size_t kScanMax = 16;
  std::vector<std::string> small_;
  std::unordered_map<std::string, float, StringHash, std::equal_to<>> large_;
};

struct FeaturePlan {
  const ml::Feature* feature = nullptr;
  size_t column = 0;                   // in the input
  std::optional<CategoryCodes> codes;  // kCategorical only
};

enum class Copy { kAll, kSome, kNone };

struct Plan {
  const ml::LoadedModel* model = nullptr;
  std::string input_name;  // prefixes the errors of rows
  std::vector<std::string> input_names;
  std::vector<FeaturePlan> features;
  Copy copy = Copy::kAll;
  std::vector<size_t> copied;  // Copy::kSome: input column indices, in output order
  std::vector<std::string> label_fields;  // classification: each class as a CSV field
  bool explain = false;
  std::string booster_bytes;  // explain: each worker loads its own booster for TreeSHAP
  std::string header;         // the output's header line, LF included
  std::vector<std::string> columns;
};

Result<Plan> MakePlan(const ml::LoadedModel& model, std::vector<std::string> names,
                      std::string_view raw_header, const BatchScoreOptions& options) {
  Plan plan;
  plan.model = &model;
  plan.input_names = std::move(names);
  plan.explain = options.explain;
  std::unordered_map<std::string_view, size_t> index;
  for (size_t i = 0; i < plan.input_names.size(); ++i) index.emplace(plan.input_names[i], i);

  const ml::Preprocessing& pre = model.preprocessing();
  for (const ml::Feature& f : pre.features) {
    const auto it = index.find(f.name);
    if (it == index.end()) {
      return InvalidArgument("the model's feature column " + Quote(f.name) +
                             " is not in the input; its columns are: " + List(plan.input_names));
    }
    FeaturePlan fp;
    fp.feature = &f;
    fp.column = it->second;
    if (f.kind == ml::FeatureKind::kCategorical) fp.codes.emplace(f.categories);
    plan.features.push_back(std::move(fp));
  }

  if (options.predictions_only && !options.output_columns.empty()) {
    return InvalidArgument("choose the output's input columns or predictions only, not both");
  }
  if (options.predictions_only) {
    plan.copy = Copy::kNone;
  } else if (!options.output_columns.empty()) {
    plan.copy = Copy::kSome;
    std::unordered_set<std::string_view> seen;
    for (const std::string& name : options.output_columns) {
      const auto it = index.find(name);
      if (it == index.end()) {
        return InvalidArgument("output column " + Quote(name) +
                               " is not in the input; its columns are: " + List(plan.input_names));
      }
      if (!seen.insert(name).second) {
        return InvalidArgument("output column " + Quote(name) + " is named twice");
      }
      plan.copied.push_back(it->second);
    }
  }

  // The header: the input's own text when every column is copied (its quoting kept).
  std::unordered_set<std::string_view> kept;
  if (plan.copy == Copy::kAll) {
    std::string_view h = raw_header;
    while (!h.empty() && (h.back() == '\n' || h.back() == '\r')) h.remove_suffix(1);
    plan.header.assign(h);
    for (const std::string& n : plan.input_names) kept.insert(n);
    plan.columns = plan.input_names;
  } else {
    for (size_t i : plan.copied) {
      if (!plan.header.empty()) plan.header += ',';
      AppendCsvField(plan.header, plan.input_names[i]);
      kept.insert(plan.input_names[i]);
      plan.columns.push_back(plan.input_names[i]);
    }
  }
  for (const std::string& c : PredictionColumns(model, options.explain)) {
    if (kept.contains(c)) {
      return InvalidArgument("the input has a column named " + Quote(c) +
                             ", which batch scoring adds; leave it out of the output's columns");
    }
    if (!plan.header.empty()) plan.header += ',';
    AppendCsvField(plan.header, c);
    plan.columns.push_back(c);
  }
  plan.header += '\n';

  for (const std::string& c : model.classes()) {
    std::string field;
    AppendCsvField(field, c);
    plan.label_fields.push_back(std::move(field));
  }
  if (options.explain) {
    CAIRN_TRY(plan.booster_bytes, model.booster().SaveRaw("ubj"));
  }
  return plan;
}

// ---------------------------------------------------------------------------------------------
// Blocks and the workers that score them.

struct Block {
  int64_t seq = 0;
  // The block's rows: rows.begin..rows.end of `input` (a CsvRowBlock over it).
  std::string input;
  data::CsvRowBlock rows;
  int64_t first_line = 0;  // the physical line its first row starts on
  int64_t bytes_read = 0;  // input bytes it accounts for
  Status status;           // the first error in it (a reader's error: a block without rows)
  std::string output;
};

class Worker {
 public:
  explicit Worker(const Plan& plan) : plan_(plan) {}

  void Process(Block& b) {
    b.status = Score(b);
    if (!b.status.ok()) b.output.clear();
  }

 private:
  size_t RowBegin(const Block& b, size_t r) const {
    return b.rows.begin + (r == 0 ? 0 : b.rows.ends[r * b.rows.columns - 1] + 1);
  }

  int64_t LineOf(const Block& b, size_t r) const {
    const char* p = b.input.data();
    return b.first_line + std::count(p + b.rows.begin, p + RowBegin(b, r), '\n');
  }

  Status RowError(const Block& b, size_t r, size_t column, std::string_view value,
                  std::string_view problem) const {
    return Prefixed(plan_.input_name,
                    InvalidArgument("line " + std::to_string(LineOf(b, r)) + ", column " +
                                    std::to_string(column + 1) + " (" +
                                    plan_.input_names[column] + "): " + Quote(value) + " " +
                                    std::string(problem)));
  }

  // An optional '-' and 1 to 9 digits: the value ParseFloat gives (exact in a double, so the
  // same float), without its general parser. False for anything else.
  static bool SmallInteger(std::string_view field, float* out) {
    const size_t n = field.size();
    const bool negative = n > 0 && field[0] == '-';
    const size_t digits = n - (negative ? 1 : 0);
    if (digits == 0 || digits > 9) return false;
    uint32_t v = 0;
    for (size_t i = negative ? 1 : 0; i < n; ++i) {
      const uint32_t d = static_cast<uint32_t>(static_cast<unsigned char>(field[i])) - '0';
      if (d > 9) return false;
      v = v * 10 + d;
    }
    const double value = negative ? -static_cast<double>(v) : static_cast<double>(v);
    *out = static_cast<float>(value);
    return true;
  }

  // One value of one feature; false when it does not fit.
  static bool Encode(const FeaturePlan& fp, std::string_view field, float* out) {
    switch (fp.feature->kind) {
      case ml::FeatureKind::kNumeric:
        if (SmallInteger(field, out)) return true;
        if (const auto v = data::ParseFloat(field)) {
          *out = static_cast<float>(*v);
          return true;
        }
        *out = kNaN;
        return data::IsMissing(field);
      case ml::FeatureKind::kBoolean:
        if (data::IsMissing(field)) {
          *out = kNaN;
          return true;
        }
        if (const auto b = data::ParseBoolean(field)) {
          *out = *b ? 1.0f : 0.0f;
          return true;
        }
        if (const auto v = data::ParseFloat(field); v && (*v == 0 || *v == 1)) {
          *out = static_cast<float>(*v);
          return true;
        }
        return false;
      case ml::FeatureKind::kCategorical: {
        *out = kNaN;  // missing, and categories not seen in training
        if (data::IsMissing(field)) return true;
        *out = fp.codes->Find(field);
        if (!std::isnan(*out)) return true;
        // A number or boolean is also matched by its canonical text, as in a typed column.
        std::string canonical;
        switch (data::ClassifyField(field)) {
          case data::FieldKind::kInteger:
          case data::FieldKind::kFloat:
            canonical = ml::CanonicalText(*data::ParseFloat(field));
            break;
          case data::FieldKind::kBoolean:
            canonical = *data::ParseBoolean(field) ? "true" : "false";
            break;
          default:
            return true;
        }
        *out = fp.codes->Find(canonical);
        return true;
      }
    }
    return false;
  }

  Status Score(Block& b) {
    if (!b.status.ok()) return b.status;
    const std::string_view data = b.input;
    const size_t rows = b.rows.rows;
    const size_t nf = plan_.features.size();
    matrix_.rows = static_cast<int64_t>(rows);
    matrix_.cols = static_cast<int64_t>(nf);
    matrix_.values.resize(rows * nf);
    float* out = matrix_.values.data();
    for (size_t r = 0; r < rows; ++r) {
      for (size_t f = 0; f < nf; ++f) {
        const FeaturePlan& fp = plan_.features[f];
        const std::string_view field = b.rows.Field(data, r, fp.column, &scratch_);
        if (!Encode(fp, field, out + r * nf + f)) {
          return RowError(b, r, fp.column, field,
                          fp.feature->kind == ml::FeatureKind::kNumeric
                              ? "is not a number, and the model takes numbers there"
                              : "is not a boolean, and the model takes true or false there");
        }
      }
    }
    CAIRN_TRY(const ml::Predictions p, plan_.model->PredictMatrix(matrix_));
    std::optional<ml::ShapValues> shap;
    if (plan_.explain && rows > 0) {
      if (!shap_booster_) {
        CAIRN_TRY(ml::XgboostBooster booster,
                  ml::XgboostBooster::LoadRaw(plan_.booster_bytes, /*nthread=*/1));
        shap_booster_.emplace(std::move(booster));
      }
      CAIRN_TRY(const ml::XgboostMatrix m,
                ml::XgboostMatrix::Create(matrix_.values, matrix_.rows, matrix_.cols, {}, 1));
      CAIRN_TRY(shap, shap_booster_->ShapContributions(m));
    }
    Format(b, p, shap ? &*shap : nullptr);
    return Status();
  }

  void Format(Block& b, const ml::Predictions& p, const ml::ShapValues* shap) {
    const std::string_view data = b.input;
    const size_t rows = b.rows.rows;
    const size_t columns = b.rows.columns;
    std::string& out = b.output;
    out.clear();
    const size_t per_row = 24 * static_cast<size_t>(p.width) + 16 +
                           (shap ? 16 * shap->values.size() / std::max<size_t>(rows, 1) : 0);
    out.reserve((plan_.copy == Copy::kAll ? b.rows.end - b.rows.begin : 0) + rows * per_row);
    const bool classification = !plan_.label_fields.empty();
    for (size_t r = 0; r < rows; ++r) {
      bool first = true;
      if (plan_.copy == Copy::kAll) {
        const size_t begin = RowBegin(b, r);
        size_t end = b.rows.begin + b.rows.ends[r * columns + columns - 1];
        if (end > begin && data[end - 1] == '\r') --end;
        out.append(data.substr(begin, end - begin));
        first = false;
      } else if (plan_.copy == Copy::kSome) {
        for (size_t c : plan_.copied) {
          if (!first) out += ',';
          AppendCsvField(out, b.rows.Field(data, r, c, &scratch_));
          first = false;
        }
      }
      const float* v = p.values.data() + r * static_cast<size_t>(p.width);
      for (int64_t k = 0; k < p.width; ++k) {
        if (!first) out += ',';
        AppendFloat(out, v[k]);
        first = false;
      }
      if (classification) {
        const size_t k =
            p.width == 1 ? (v[0] > 0.5f ? 1 : 0)
                         : static_cast<size_t>(std::max_element(v, v + p.width) - v);
        out += ',';
        out += plan_.label_fields[k];
      }
      if (shap != nullptr) {
        const size_t n = static_cast<size_t>(shap->groups * (shap->features + 1));
        const float* s = shap->values.data() + r * n;
        for (size_t j = 0; j < n; ++j) {
          out += ',';
          AppendFloat(out, s[j]);
        }
      }
      out += '\n';
    }
  }

  const Plan& plan_;
  ml::FeatureMatrix matrix_;
  std::string scratch_;
  std::optional<ml::XgboostBooster> shap_booster_;
};

// ---------------------------------------------------------------------------------------------
// The pipeline: the reader (the caller's thread) submits blocks in input order; workers score
// them in any order; the writer writes them in order. At most `max_in_flight` blocks exist at a
// time, which bounds memory. The first error in input order wins: blocks after it are skipped.

class Pipeline {
 public:
  // `header_bytes`: the input bytes read before the first block (for progress).
  Pipeline(const Plan& plan, ByteSink& sink, const BatchScoreOptions& options,
           int64_t header_bytes)
      : plan_(plan),
        sink_(sink),
        on_progress_(options.on_progress),
        max_in_flight_(2 * options.threads + 2) {
    progress_.bytes_read = header_bytes;
    writer_ = std::thread([this] { WriterLoop(); });
    for (int i = 0; i < options.threads; ++i) workers_.emplace_back([this] { WorkerLoop(); });
  }
  ~Pipeline() { Join(); }

  // Queues `block` after waiting for room; false when the pipeline has stopped on an error
  // (the reader should stop too).
  bool Submit(std::unique_ptr<Block> block) {
    std::unique_lock lock(mu_);
    space_cv_.wait(lock, [&] { return in_flight_ < max_in_flight_ || stopped_; });
    if (stopped_) return false;
    block->seq = next_seq_++;
    ++in_flight_;
    work_.push_back(std::move(block));
    work_cv_.notify_one();
    return true;
  }

  // The reader's own error, after the blocks submitted so far.
  void Fail(Status status) {
    auto block = std::make_unique<Block>();
    block->status = std::move(status);
    std::unique_lock lock(mu_);
    block->seq = next_seq_++;
    ++in_flight_;
    stopped_ = true;
    done_.emplace(block->seq, std::move(block));
    done_cv_.notify_all();
    space_cv_.notify_all();
  }

  bool stopped() {
    std::lock_guard lock(mu_);
    return stopped_;
  }

  // Ends the input, waits for every thread; the summary's counts, or the first error.
  Result<BatchScoreSummary> Finish() {
    Join();
    if (!error_.ok()) return error_;
    BatchScoreSummary summary;
    summary.rows = progress_.rows;
    summary.bytes_read = progress_.bytes_read;
    summary.bytes_written = progress_.bytes_written;
    summary.columns = plan_.columns;
    return summary;
  }

 private:
  void Join() {
    {
      std::lock_guard lock(mu_);
      input_done_ = true;
    }
    work_cv_.notify_all();
    done_cv_.notify_all();
    for (std::thread& t : workers_) {
      if (t.joinable()) t.join();
    }
    if (writer_.joinable()) writer_.join();
  }

  void WorkerLoop() {
    Worker worker(plan_);
    for (;;) {
      std::unique_ptr<Block> block;
      {
        std::unique_lock lock(mu_);
        work_cv_.wait(lock, [&] { return !work_.empty() || input_done_; });
        if (work_.empty()) return;
        block = std::move(work_.front());
        work_.pop_front();
        if (block->seq > error_seq_) block->status = Internal("skipped after an earlier error");
      }
      worker.Process(*block);
      std::lock_guard lock(mu_);
      if (!block->status.ok()) {
        error_seq_ = std::min(error_seq_, block->seq);
        stopped_ = true;
        space_cv_.notify_all();
      }
      done_.emplace(block->seq, std::move(block));
      done_cv_.notify_all();
    }
  }

  void WriterLoop() {
    Status status = sink_.Write(plan_.header);
    if (status.ok()) progress_.bytes_written += static_cast<int64_t>(plan_.header.size());
    for (int64_t seq = 0; status.ok(); ++seq) {
      std::unique_ptr<Block> block;
      {
        std::unique_lock lock(mu_);
        done_cv_.wait(lock,
                      [&] { return done_.contains(seq) || (input_done_ && seq >= next_seq_); });
        const auto it = done_.find(seq);
        if (it == done_.end()) break;  // every block written
        block = std::move(it->second);
        done_.erase(it);
      }
      status = block->status;
      if (status.ok()) status = sink_.Write(block->output);
      if (status.ok()) {
        progress_.rows += static_cast<int64_t>(block->rows.rows);
        progress_.bytes_read += block->bytes_read;
        progress_.bytes_written += static_cast<int64_t>(block->output.size());
        if (on_progress_) on_progress_(progress_);
      }
      block.reset();
      std::lock_guard lock(mu_);
      --in_flight_;
      space_cv_.notify_all();
    }
    std::lock_guard lock(mu_);
    if (!status.ok()) {
      error_ = status;
      stopped_ = true;
      error_seq_ = -1;  // nothing more is needed
      space_cv_.notify_all();
    } else if (on_progress_) {
      on_progress_(progress_);
    }
  }

  const Plan& plan_;
  ByteSink& sink_;
  const std::function<void(const BatchProgress&)> on_progress_;
  const int64_t max_in_flight_;

  std::mutex mu_;
  std::condition_variable work_cv_;   // work_ or input_done_ changed
  std::condition_variable done_cv_;   // done_ or input_done_ changed
  std::condition_variable space_cv_;  // in_flight_ or stopped_ changed
  std::deque<std::unique_ptr<Block>> work_;
  std::map<int64_t, std::unique_ptr<Block>> done_;
  int64_t next_seq_ = 0;
  int64_t in_flight_ = 0;
  int64_t error_seq_ = std::numeric_limits<int64_t>::max();  // the first block with an error
  bool stopped_ = false;
  bool input_done_ = false;

  // The writer's (read by Finish after joining).
  BatchProgress progress_;
  Status error_;

  std::vector<std::thread> workers_;
  std::thread writer_;
};

// ---------------------------------------------------------------------------------------------
// The reader.

class HeaderVisitor : public data::CsvVisitor {
 public:
  Status OnHeader(std::span<const std::string> names) override {
    names_.assign(names.begin(), names.end());
    return Status();
  }
  Status OnRow(std::span<const std::string_view>, int64_t) override { return Status(); }
  std::vector<std::string> names_;
};

// Rows from the row-by-row parser (the input the fast splitter does not take), written back as
// canonical CSV into blocks the workers score like any other.
class Reserializer : public data::CsvVisitor {
 public:
  Reserializer(Pipeline& pipeline, size_t columns, size_t block_bytes, int64_t line_shift)
      : pipeline_(pipeline), columns_(columns), block_bytes_(block_bytes), shift_(line_shift) {}

  Status OnRow(std::span<const std::string_view> fields, int64_t line) override {
    if (!block_) {
      block_ = std::make_unique<Block>();
      block_->first_line = line + shift_;
    }
    std::string& s = block_->input;
    for (size_t i = 0; i < fields.size(); ++i) {
      if (i) s += ',';
      // In a one-column file an empty line is a missing value; written as "" it stays a row.
      if (fields[i].empty() && columns_ == 1) {
        s += "\"\"";
      } else {
        AppendCsvField(s, fields[i]);
      }
    }
    s += '\n';
    if (s.size() >= block_bytes_) return Flush();
    return Status();
  }

  Status Flush() {
    if (!block_) return Status();
    std::unique_ptr<Block> block = std::move(block_);
    const std::string_view data(block->input.data(), block->input.size() - 1);  // the last LF
    if (!data::SplitCsvRows(data, 0, columns_, std::numeric_limits<size_t>::max(),
                            &block->rows) ||
        block->rows.end != data.size()) {
      return Internal("re-reading parsed rows at line " + std::to_string(block->first_line));
    }
    block->bytes_read = static_cast<int64_t>(block->input.size());
    if (!pipeline_.Submit(std::move(block))) return Cancelled();
    return Status();
  }

  static Status Cancelled() { return FailedPrecondition("stopped after an error"); }

 private:
  Pipeline& pipeline_;
  const size_t columns_;
  const size_t block_bytes_;
  const int64_t shift_;
  std::unique_ptr<Block> block_;
};

class Reader {
 public:
  explicit Reader(ByteSource& input) : input_(input) {}

  // Reads until buf_ holds `want` bytes or the input ends.
  Status Fill(size_t want) {
    while (!eof_ && buf_.size() < want) {
      const size_t old = buf_.size();
      const size_t n = std::min(want - old, kMaxRead);
      buf_.resize(old + n);
      Result<size_t> got = input_.Read(buf_.data() + old, n);
      if (!got.ok()) {
        buf_.resize(old);
        return got.status();
      }
      buf_.resize(old + *got);
      total_read_ += static_cast<int64_t>(*got);
      if (*got == 0) eof_ = true;
    }
    return Status();
  }

  // The header row's bytes (its line ending included, a byte order mark dropped).
  Result<std::string> ReadHeader() {
    CAIRN_RETURN_IF_ERROR(Fill(kBom.size()));
    if (std::string_view(buf_).starts_with(kBom)) buf_.erase(0, kBom.size());
    bool in_quotes = false;
    size_t end = std::string::npos;
    for (size_t i = 0; end == std::string::npos;) {
      for (; i < buf_.size(); ++i) {
        if (buf_[i] == '"') in_quotes = !in_quotes;
        if (buf_[i] == '\n' && !in_quotes) {
          end = i + 1;
          break;
        }
      }
      if (end != std::string::npos) break;
      if (eof_) {
        end = buf_.size();
        break;
      }
      if (buf_.size() > kMaxRowBytes) {
        return InvalidArgument("line 1: the header row is longer than " +
                               std::to_string(kMaxRowBytes >> 20) + " MB");
      }
      CAIRN_RETURN_IF_ERROR(Fill(buf_.size() + kRowSlack));
    }
    std::string header = buf_.substr(0, end);
    buf_.erase(0, end);
    return header;
  }

  // Splits the input into blocks for `pipeline`; falls back to the row-by-row parser for what
  // the fast splitter does not take. `first_line` is the line the first data row starts on.
  // A row that does not end within `long_row_bytes` past the block's target (or input the fast
  // splitter does not take) hands the rest of the input to the row-by-row parser, which takes
  // anything valid or names the error.
  Status Run(Pipeline& pipeline, const std::string& header, size_t columns, size_t block_bytes,
             size_t long_row_bytes, int64_t first_line) {
    int64_t line = first_line;
    const size_t initial_slack = std::min(kRowSlack, long_row_bytes);
    size_t slack = initial_slack;
    for (;;) {
      CAIRN_RETURN_IF_ERROR(Fill(block_bytes + slack));
      std::string_view data = buf_;
      if (eof_) data = data.substr(0, data::TrimCsvEnd(data));
      if (data.empty()) return Status();  // nothing left, or only trailing empty lines
      auto block = std::make_unique<Block>();
      const bool ok = data::SplitCsvRows(data, 0, columns, block_bytes, &block->rows);
      if (ok && (eof_ || block->rows.end < data.size())) {
        // Complete rows: the splitter stopped at a line feed before the end of what was read.
        const size_t end = block->rows.end;
        block->first_line = line;
        line += std::count(buf_.data(), buf_.data() + end, '\n');
        const bool last = eof_ && end == data.size();
        block->bytes_read = static_cast<int64_t>(last ? buf_.size() : end);
        std::string rest = last ? std::string() : buf_.substr(end);
        block->input = std::move(buf_);
        buf_ = std::move(rest);
        if (!pipeline.Submit(std::move(block))) return Status();
        slack = initial_slack;
        continue;
      }
      if (!eof_ && slack < long_row_bytes) {
        slack *= 2;  // a long row, or something the splitter does not take: look further
        continue;
      }
      return RunSlow(pipeline, header, columns, block_bytes, line);
    }
  }

  int64_t total_read() const { return total_read_; }

 private:
  // The rest of the input through CsvParser, fed the header first; its lines are shifted to
  // where the rest starts in the file.
  Status RunSlow(Pipeline& pipeline, const std::string& header, size_t columns,
                 size_t block_bytes, int64_t line) {
    const int64_t header_lines = 1 + std::count(header.begin(), header.end(), '\n');
    const int64_t shift = line - header_lines;
    Reserializer rows(pipeline, columns, block_bytes, shift);
    data::CsvParser parser(rows);
    auto check = [&](Status s) -> Status {
      if (s.ok()) return s;
      if (pipeline.stopped()) return Status();  // a worker's error, reported by the pipeline
      return ShiftLines(s, shift);
    };
    CAIRN_RETURN_IF_ERROR(check(parser.Feed(header)));
    for (;;) {
      CAIRN_RETURN_IF_ERROR(check(parser.Feed(buf_)));
      buf_.clear();
      if (eof_) break;
      CAIRN_RETURN_IF_ERROR(Fill(kMaxRead));
    }
    CAIRN_RETURN_IF_ERROR(check(parser.Finish()));
    return check(rows.Flush());
  }

  ByteSource& input_;
  std::string buf_;
  bool eof_ = false;
  int64_t total_read_ = 0;
};

}  // namespace

void AppendCsvField(std::string& out, std::string_view field) {
  if (!NeedsQuotes(field)) {
    out.append(field);
    return;
  }
  out += '"';
  for (char c : field) {
    if (c == '"') out += '"';
    out += c;
  }
  out += '"';
}

std::vector<std::string> PredictionColumns(const ml::LoadedModel& model, bool explain) {
  std::vector<std::string> out;
  switch (model.task()) {
    case ml::Task::kBinary:
      out = {"prediction", "predicted_label"};
      break;
    case ml::Task::kMulticlass:
      for (const std::string& c : model.classes()) out.push_back("proba_" + c);
      out.push_back("predicted_label");
      break;
    case ml::Task::kRegression:
      out = {"prediction"};
      break;
  }
  if (explain) {
    const std::vector<std::string> features = model.preprocessing().FeatureNames();
    const bool per_class = model.task() == ml::Task::kMulticlass;
    const std::vector<std::string> groups = per_class ? model.classes() : std::vector{std::string()};
    for (const std::string& g : groups) {
      const std::string prefix = per_class ? "shap_" + g + "_" : "shap_";
      for (const std::string& f : features) out.push_back(prefix + f);
      out.push_back(prefix + "bias");
    }
  }
  return out;
}

Result<size_t> FdSource::Read(char* buffer, size_t size) {
  for (;;) {
    const ssize_t n = ::read(fd_, buffer, size);
    if (n >= 0) return static_cast<size_t>(n);
    if (errno != EINTR) return Internal("reading " + name_ + ": " + std::strerror(errno));
  }
}

Status FdSink::Write(std::string_view bytes) {
  while (!bytes.empty()) {
    const ssize_t n = ::write(fd_, bytes.data(), bytes.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      return Internal("writing " + name_ + ": " + std::strerror(errno));
    }
    bytes.remove_prefix(static_cast<size_t>(n));
  }
  return Status();
}

Result<BatchScoreSummary> BatchScore(const ml::LoadedModel& model, ByteSource& input,
                                     ByteSink& output, const BatchScoreOptions& options) {
  if (options.threads < 1) return InvalidArgument("threads must be at least 1");
  if (options.block_bytes < 1) return InvalidArgument("block_bytes must be at least 1");
  const std::string name = input.Name();
  Reader reader(input);
  Result<std::string> header = reader.ReadHeader();
  if (!header.ok()) return Prefixed(name, header.status());
  HeaderVisitor names;
  {
    data::CsvParser parser(names);
    Status s = parser.Feed(*header);
    if (s.ok()) s = parser.Finish();
    if (!s.ok()) return Prefixed(name, s);
  }
  Result<Plan> plan = MakePlan(model, names.names_, *header, options);
  if (!plan.ok()) return Prefixed(name, plan.status());
  plan->input_name = name;

  Pipeline pipeline(*plan, output, options, static_cast<int64_t>(header->size()));
  const int64_t first_line = 1 + std::count(header->begin(), header->end(), '\n');
  Status read = reader.Run(pipeline, *header, names.names_.size(), options.block_bytes,
                           options.long_row_bytes, first_line);
  if (!read.ok()) pipeline.Fail(Prefixed(name, read));
  Result<BatchScoreSummary> summary = pipeline.Finish();
  if (!summary.ok()) return summary.status();
  summary->bytes_read = reader.total_read();
  return summary;
}

Result<BatchScoreSummary> BatchScoreFile(const ml::LoadedModel& model,
                                         const std::string& input_path,
                                         const std::string& output_path,
                                         const BatchScoreOptions& options) {
  int in_fd = STDIN_FILENO;
  if (input_path != "-") {
    in_fd = ::open(input_path.c_str(), O_RDONLY | O_CLOEXEC);
    if (in_fd < 0) {
      const int e = errno;
      if (e == ENOENT) return NotFound(input_path + ": no such file");
      return InvalidArgument(input_path + ": " + std::strerror(e));
    }
    struct stat st {};
    if (::fstat(in_fd, &st) == 0 && S_ISDIR(st.st_mode)) {
      ::close(in_fd);
      return InvalidArgument(input_path + ": is a directory, not a CSV file");
    }
    ::posix_fadvise(in_fd, 0, 0, POSIX_FADV_SEQUENTIAL);
  }
  struct CloseInput {
    int fd;
    ~CloseInput() {
      if (fd != STDIN_FILENO) ::close(fd);
    }
  } close_input{in_fd};
  FdSource source(in_fd, input_path == "-" ? "<stdin>" : input_path);

  if (output_path == "-") {
    FdSink sink(STDOUT_FILENO, "<stdout>");
    return BatchScore(model, source, sink, options);
  }

  std::error_code ec;
  const fs::path out(output_path);
  if (fs::is_directory(out, ec)) {
    return InvalidArgument(output_path + ": is a directory; name the output file");
  }
  if (!out.has_filename()) return InvalidArgument(output_path + ": names no file");
  const fs::path dir = out.has_parent_path() ? out.parent_path() : fs::path(".");
  std::string temp = (dir / ("." + out.filename().string() + ".cairn-tmp-XXXXXX")).string();
  const int out_fd = ::mkstemp(temp.data());
  if (out_fd < 0) {
    return InvalidArgument("cannot create the output in " + dir.string() + ": " +
                           std::strerror(errno));
  }
  // mkstemp makes the file 0600; give it the mode a new file gets. (umask is process-wide:
  // read and restored before any thread starts.)
  const mode_t mask = ::umask(0);
  ::umask(mask);
  ::fchmod(out_fd, 0666 & ~mask);

  FdSink sink(out_fd, output_path);
  Result<BatchScoreSummary> summary = BatchScore(model, source, sink, options);
  const bool closed = ::close(out_fd) == 0;
  if (summary.ok() && !closed) {
    summary = Internal("writing " + output_path + ": " + std::strerror(errno));
  }
  if (summary.ok() && ::rename(temp.c_str(), output_path.c_str()) != 0) {
    summary = Internal("renaming " + temp + " to " + output_path + ": " + std::strerror(errno));
  }
  if (!summary.ok()) ::unlink(temp.c_str());
  return summary;
}

}  // namespace cairn::serving
