#include "ml/tree_ensemble.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <limits>
#include <nlohmann/json.hpp>
#include <optional>
#include <random>
#include <thread>

#include "core/check.h"

namespace cairn::ml {
namespace {

using Json = nlohmann::json;

constexpr float kNaN = std::numeric_limits<float>::quiet_NaN();
// Rows per block: each tree is walked for a block of rows before the next tree, so the trees'
// nodes stay in cache across rows (what XGBoost's CPU predictor does too).
constexpr int64_t kBlockRows = 64;
// Walks interleaved for a single row: enough independent loads in flight to cover a step's
// latency.
constexpr int64_t kInterleave = 8;
// Below this many rows per thread, starting threads costs more than it saves.
constexpr int64_t kMinRowsPerThread = 2048;

struct Unsupported {
  std::string reason;
};

// XGBoost's objectives: how margins become predictions, and how base_score becomes a margin.
enum class MarginOf { kIdentity, kLogit, kLog };

struct ObjectiveInfo {
  TreeOutput output;
  MarginOf base;
};

std::optional<ObjectiveInfo> LookupObjective(std::string_view name) {
  if (name == "binary:logistic" || name == "reg:logistic") {
    return ObjectiveInfo{TreeOutput::kSigmoid, MarginOf::kLogit};
  }
  // XGBoost 1.7 adds base_score to binary:logitraw's margins as it is (no logit).
  if (name == "binary:logitraw") return ObjectiveInfo{TreeOutput::kIdentity, MarginOf::kIdentity};
  if (name == "reg:squarederror" || name == "reg:linear" || name == "reg:squaredlogerror" ||
      name == "reg:pseudohubererror" || name == "reg:absoluteerror" ||
      name == "reg:quantileerror" || name == "rank:pairwise" || name == "rank:ndcg" ||
      name == "rank:map") {
    return ObjectiveInfo{TreeOutput::kIdentity, MarginOf::kIdentity};
  }
  if (name == "count:poisson" || name == "reg:gamma" || name == "reg:tweedie" ||
      name == "survival:cox" || name == "survival:aft") {
    return ObjectiveInfo{TreeOutput::kExp, MarginOf::kLog};
  }
  if (name == "multi:softprob") return ObjectiveInfo{TreeOutput::kSoftmax, MarginOf::kIdentity};
  if (name == "multi:softmax") return ObjectiveInfo{TreeOutput::kArgmax, MarginOf::kIdentity};
  return std::nullopt;
}

// XGBoost writes its model parameters as strings ("5E-1", "0", "21").
Result<float> FloatParam(const Json& object, const char* key, std::string_view where) {
  const auto it = object.find(key);
  if (it == object.end()) return InvalidArgument(std::string(where) + "." + key + " is missing");
  if (it->is_number()) return it->get<float>();
  if (!it->is_string()) return InvalidArgument(std::string(where) + "." + key + " is not a number");
  const std::string& text = it->get_ref<const std::string&>();
  float value = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size()) {
    return InvalidArgument(std::string(where) + "." + key + " is not a number: '" + text + "'");
  }
  return value;
}

Result<int64_t> IntParam(const Json& object, const char* key, std::string_view where) {
  const auto it = object.find(key);
  if (it == object.end()) return InvalidArgument(std::string(where) + "." + key + " is missing");
  if (it->is_number_integer()) return it->get<int64_t>();
  if (!it->is_string()) {
    return InvalidArgument(std::string(where) + "." + key + " is not an integer");
  }
  const std::string& text = it->get_ref<const std::string&>();
  int64_t value = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size()) {
    return InvalidArgument(std::string(where) + "." + key + " is not an integer: '" + text + "'");
  }
  return value;
}

const Json* Find(const Json& object, const char* key) {
  if (!object.is_object()) return nullptr;
  const auto it = object.find(key);
  return it == object.end() ? nullptr : &*it;
}

Result<const Json*> Require(const Json& object, const char* key, std::string_view where) {
  const Json* value = Find(object, key);
  if (value == nullptr) return InvalidArgument(std::string(where) + "." + key + " is missing");
  return value;
}

// A per-node array of a tree, checked to hold `n` numbers.
template <typename T>
Result<std::vector<T>> NodeArray(const Json& tree, const char* key, size_t n,
                                 std::string_view where) {
  CAIRN_TRY(const Json* array, Require(tree, key, where));
  if (!array->is_array() || (n != 0 && array->size() != n)) {
    return InvalidArgument(std::string(where) + "." + key + " must be an array of " +
                           std::to_string(n) + " values");
  }
  std::vector<T> out;
  out.reserve(array->size());
  for (const Json& v : *array) {
    if (v.is_boolean()) {
      out.push_back(static_cast<T>(v.get<bool>()));
    } else if (v.is_number()) {
      out.push_back(v.get<T>());
    } else {
      return InvalidArgument(std::string(where) + "." + key + " holds a non-number");
    }
  }
  return out;
}

// XGBoost's common::Sigmoid.
inline float Sigmoid(float x) {
  constexpr float kEps = 1e-16f;
  x = std::min(-x, 88.7f);
  return 1.0f / (std::exp(x) + 1.0f + kEps);
}

// XGBoost's common::Softmax over one row's groups, in place.
inline void Softmax(float* begin, int n) {
  float top = begin[0];
  for (int k = 1; k < n; ++k) top = std::fmax(begin[k], top);
  double sum = 0;
  for (int k = 0; k < n; ++k) {
    begin[k] = std::exp(begin[k] - top);
    sum += begin[k];
  }
  for (int k = 0; k < n; ++k) begin[k] /= static_cast<float>(sum);
}

}  // namespace

Result<TreeEnsemble> TreeEnsemble::FromXgboostJson(std::string_view text) {
  Json json;
  try {
    json = Json::parse(text);
  } catch (const std::exception& e) {
    return InvalidArgument(std::string("the booster's JSON does not parse: ") + e.what());
  }
  TreeEnsemble e;
  try {
    CAIRN_TRY(const Json* learner, Require(json, "learner", "model"));
    CAIRN_TRY(const Json* booster, Require(*learner, "gradient_booster", "learner"));
    CAIRN_TRY(const Json* booster_name, Require(*booster, "name", "learner.gradient_booster"));
    if (!booster_name->is_string() || booster_name->get<std::string>() != "gbtree") {
      return FailedPrecondition("the booster is " + booster_name->dump() +
                                ", not gbtree: its trees are weighted or linear");
    }
    CAIRN_TRY(const Json* params, Require(*learner, "learner_model_param", "learner"));
    const std::string where = "learner.learner_model_param";
    CAIRN_TRY(e.num_features_, IntParam(*params, "num_feature", where));
    CAIRN_TRY(const int64_t num_class, IntParam(*params, "num_class", where));
    if (Find(*params, "num_target") != nullptr) {
      CAIRN_TRY(const int64_t num_target, IntParam(*params, "num_target", where));
      if (num_target > 1) {
        return FailedPrecondition("the booster has " + std::to_string(num_target) +
                                  " targets (multi-output trees)");
      }
    }
    if (e.num_features_ <= 0 || e.num_features_ > int64_t{kFeatureMask}) {
      return InvalidArgument(where + ".num_feature is out of range");
    }
    if (num_class < 0 || num_class > 1'000'000) {
      return InvalidArgument(where + ".num_class is out of range");
    }
    e.num_groups_ = num_class > 0 ? static_cast<int>(num_class) : 1;
    CAIRN_TRY(const float base_score, FloatParam(*params, "base_score", where));

    CAIRN_TRY(const Json* objective, Require(*learner, "objective", "learner"));
    CAIRN_TRY(const Json* objective_name, Require(*objective, "name", "learner.objective"));
    if (!objective_name->is_string()) return InvalidArgument("learner.objective.name is not text");
    e.objective_ = objective_name->get<std::string>();
    const auto info = LookupObjective(e.objective_);
    if (!info) {
      return FailedPrecondition("the objective " + e.objective_ +
                                " has an output transform the native evaluator does not know");
    }
    e.output_ = info->output;
    switch (info->base) {
      case MarginOf::kIdentity:
        e.base_margin_ = base_score;
        break;
      case MarginOf::kLogit:
        if (!(base_score > 0.0f && base_score < 1.0f)) {
          return InvalidArgument(where + ".base_score must be in (0, 1) for " + e.objective_);
        }
        e.base_margin_ = -std::log(1.0f / base_score - 1.0f);
        break;
      case MarginOf::kLog:
        if (!(base_score > 0.0f)) {
          return InvalidArgument(where + ".base_score must be positive for " + e.objective_);
        }
        e.base_margin_ = std::log(base_score);
        break;
    }
    if ((e.output_ == TreeOutput::kSoftmax || e.output_ == TreeOutput::kArgmax) &&
        num_class < 1) {
      return InvalidArgument(e.objective_ + " needs num_class");
    }

    CAIRN_TRY(const Json* model, Require(*booster, "model", "learner.gradient_booster"));
    CAIRN_TRY(const Json* trees, Require(*model, "trees", "learner.gradient_booster.model"));
    CAIRN_TRY(const Json* tree_info,
              Require(*model, "tree_info", "learner.gradient_booster.model"));
    if (!trees->is_array() || !tree_info->is_array() || trees->size() != tree_info->size()) {
      return InvalidArgument("gradient_booster.model: trees and tree_info must be arrays of "
                             "the same length");
    }
    e.roots_.reserve(trees->size());
    e.groups_.reserve(trees->size());
    for (size_t t = 0; t < trees->size(); ++t) {
      const std::string tw = "trees[" + std::to_string(t) + "]";
      const Json& tree = (*trees)[t];
      const Json& group = (*tree_info)[t];
      if (!group.is_number_integer() || group.get<int64_t>() < 0 ||
          group.get<int64_t>() >= e.num_groups_) {
        return InvalidArgument("tree_info[" + std::to_string(t) + "] is not an output group");
      }
      if (const Json* tp = Find(tree, "tree_param"); tp != nullptr && Find(*tp, "size_leaf_vector")) {
        CAIRN_TRY(const int64_t leaf_vector, IntParam(*tp, "size_leaf_vector", tw + ".tree_param"));
        if (leaf_vector > 1) return FailedPrecondition(tw + " has vector leaves");
      }
      CAIRN_TRY(const auto left, NodeArray<int64_t>(tree, "left_children", 0, tw));
      const size_t n = left.size();
      if (n == 0 || n > (size_t{1} << 30)) return InvalidArgument(tw + " has no nodes");
      CAIRN_TRY(const auto right, NodeArray<int64_t>(tree, "right_children", n, tw));
      CAIRN_TRY(const auto split_index, NodeArray<int64_t>(tree, "split_indices", n, tw));
      CAIRN_TRY(const auto condition, NodeArray<float>(tree, "split_conditions", n, tw));
      CAIRN_TRY(const auto default_left, NodeArray<int64_t>(tree, "default_left", n, tw));
      if (Find(tree, "split_type") != nullptr) {
        CAIRN_TRY(const auto split_type, NodeArray<int64_t>(tree, "split_type", n, tw));
        if (std::any_of(split_type.begin(), split_type.end(), [](int64_t s) { return s != 0; })) {
          return FailedPrecondition(tw + " has categorical splits");
        }
      }
      // Breadth-first from the root, so that siblings are adjacent; every node is visited at
      // most once (a cycle or a shared child is an error), unreachable (deleted) ones never.
      const size_t root = e.nodes_.size();
      if (root + n > size_t{0xffffffffu}) return InvalidArgument("the ensemble is too large");
      std::vector<int64_t> order = {0};
      std::vector<uint32_t> level = {0};
      std::vector<char> seen(n, 0);
      seen[0] = 1;
      uint32_t depth = 0;
      e.nodes_.push_back({});
      for (size_t k = 0; k < order.size(); ++k) {
        const auto old = static_cast<size_t>(order[k]);
        const auto self = static_cast<uint32_t>(root + k);
        Node node{condition[old], 0, self};  // a leaf, unless it splits
        const int64_t l = left[old];
        const int64_t r = right[old];
        if (l != -1 || r != -1) {
          for (int64_t c : {l, r}) {
            if (c <= 0 || static_cast<size_t>(c) >= n || seen[static_cast<size_t>(c)]) {
              return InvalidArgument(tw + ": node " + std::to_string(old) +
                                     " has an invalid child " + std::to_string(c));
            }
            seen[static_cast<size_t>(c)] = 1;
          }
          if (split_index[old] < 0 || split_index[old] >= e.num_features_) {
            return InvalidArgument(tw + ": node " + std::to_string(old) + " splits feature " +
                                   std::to_string(split_index[old]) + " of " +
                                   std::to_string(e.num_features_));
          }
          node.bits = static_cast<uint32_t>(split_index[old]) | kSplit |
                      (default_left[old] != 0 ? kDefaultLeft : 0u);
          node.left = static_cast<uint32_t>(root + order.size());
          order.push_back(l);
          order.push_back(r);
          level.push_back(level[k] + 1);
          level.push_back(level[k] + 1);
          depth = std::max(depth, level[k] + 1);
          e.nodes_.push_back({});
          e.nodes_.push_back({});
        }
        e.nodes_[root + k] = node;
      }
      e.roots_.push_back(static_cast<uint32_t>(root));
      e.groups_.push_back(static_cast<int32_t>(group.get<int64_t>()));
      e.depths_.push_back(depth);
    }
  } catch (const std::exception& ex) {
    return InvalidArgument(std::string("the booster's JSON is not an XGBoost model: ") + ex.what());
  }
  return e;
}

void TreeEnsemble::PredictRange(const float* values, int64_t begin, int64_t end,
                                bool output_margin, float* out) const {
  const int64_t cols = num_features_;
  const int g = num_groups_;
  const Node* nodes = nodes_.data();
  const size_t trees = roots_.size();
  std::fill(out + begin * g, out + end * g, base_margin_);
  if (end - begin < kInterleave) {
    // Few rows (the serving case): walk kInterleave trees at once for each row. The leaves are
    // still added in tree order, as XGBoost adds them.
    for (int64_t r = begin; r < end; ++r) {
      const float* row = values + r * cols;
      float* acc = out + r * g;
      for (size_t t0 = 0; t0 < trees; t0 += kInterleave) {
        const size_t n = std::min<size_t>(kInterleave, trees - t0);
        uint32_t at[kInterleave];
        uint32_t depth = 0;
        for (size_t j = 0; j < n; ++j) {
          at[j] = roots_[t0 + j];
          depth = std::max(depth, depths_[t0 + j]);
        }
        for (uint32_t d = 0; d < depth; ++d) {
          for (size_t j = 0; j < n; ++j) at[j] = Step(at[j], row);
        }
        for (size_t j = 0; j < n; ++j) acc[groups_[t0 + j]] += nodes[at[j]].value;
      }
    }
  } else {
    // Blocks of rows: each tree walks every row of the block in lock step, so that its nodes
    // stay in cache and the rows' walks overlap.
    uint32_t at[kBlockRows];
    for (int64_t block = begin; block < end; block += kBlockRows) {
      const auto rows = static_cast<size_t>(std::min(end, block + kBlockRows) - block);
      const float* base = values + block * cols;
      for (size_t t = 0; t < trees; ++t) {
        std::fill(at, at + rows, roots_[t]);
        for (uint32_t d = 0; d < depths_[t]; ++d) {
          for (size_t j = 0; j < rows; ++j) at[j] = Step(at[j], base + j * cols);
        }
        float* acc = out + block * g + groups_[t];
        for (size_t j = 0; j < rows; ++j) acc[j * g] += nodes[at[j]].value;
      }
    }
  }
  if (output_margin) return;
  switch (output_) {
    case TreeOutput::kIdentity:
      break;
    case TreeOutput::kSigmoid:
      for (int64_t i = begin * g; i < end * g; ++i) out[i] = Sigmoid(out[i]);
      break;
    case TreeOutput::kExp:
      for (int64_t i = begin * g; i < end * g; ++i) out[i] = std::exp(out[i]);
      break;
    case TreeOutput::kSoftmax:
      for (int64_t r = begin; r < end; ++r) Softmax(out + r * g, g);
      break;
    case TreeOutput::kArgmax:  // Predict turns margins into labels
      break;
  }
}

void TreeEnsemble::Predict(std::span<const float> values, int64_t rows, bool output_margin,
                           std::span<float> out, int threads) const {
  CAIRN_CHECK(rows >= 0);
  CAIRN_CHECK(values.size() == static_cast<size_t>(rows * num_features_));
  CAIRN_CHECK(out.size() == static_cast<size_t>(rows * OutputWidth(output_margin)));
  if (rows == 0) return;
  if (output_ == TreeOutput::kArgmax && !output_margin) {
    std::vector<float> margins(static_cast<size_t>(rows * num_groups_));
    Predict(values, rows, /*output_margin=*/true, margins, threads);
    for (int64_t r = 0; r < rows; ++r) {
      const float* row = margins.data() + r * num_groups_;
      out[static_cast<size_t>(r)] =
          static_cast<float>(std::max_element(row, row + num_groups_) - row);
    }
    return;
  }
  const int64_t parts = std::clamp<int64_t>(rows / kMinRowsPerThread, 1, std::max(1, threads));
  if (parts == 1) {
    PredictRange(values.data(), 0, rows, output_margin, out.data());
    return;
  }
  std::vector<std::thread> workers;
  const int64_t per = (rows + parts - 1) / parts;
  for (int64_t p = 1; p < parts; ++p) {
    const int64_t b = p * per;
    const int64_t e = std::min(rows, b + per);
    if (b >= e) break;
    workers.emplace_back([&, b, e] { PredictRange(values.data(), b, e, output_margin, out.data()); });
  }
  PredictRange(values.data(), 0, std::min(rows, per), output_margin, out.data());
  for (std::thread& w : workers) w.join();
}

std::vector<float> TreeEnsemble::Predict(std::span<const float> values, int64_t rows,
                                         bool output_margin, int threads) const {
  std::vector<float> out(static_cast<size_t>(rows * OutputWidth(output_margin)));
  Predict(values, rows, output_margin, out, threads);
  return out;
}

FeatureMatrix TreeEnsemble::ProbeRows(int64_t rows, uint64_t seed) const {
  std::vector<std::vector<float>> thresholds(static_cast<size_t>(num_features_));
  for (const Node& n : nodes_) {
    if (n.bits & kSplit) thresholds[n.bits & kFeatureMask].push_back(n.value);
  }
  std::mt19937_64 rng(seed);
  FeatureMatrix m;
  m.rows = rows;
  m.cols = num_features_;
  m.values.resize(static_cast<size_t>(rows * num_features_));
  for (int64_t r = 0; r < rows; ++r) {
    for (int64_t c = 0; c < num_features_; ++c) {
      const auto& t = thresholds[static_cast<size_t>(c)];
      float v = kNaN;
      const uint64_t pick = rng() % 8;
      if (pick != 0 && !t.empty()) {
        v = t[rng() % t.size()];
        if (pick == 1) v = std::nextafter(v, -std::numeric_limits<float>::infinity());
        if (pick == 2) v = std::nextafter(v, std::numeric_limits<float>::infinity());
      } else if (pick != 0) {
        v = static_cast<float>(rng() % 1000) / 10.0f;
      }
      m.values[static_cast<size_t>(r * num_features_ + c)] = v;
    }
  }
  return m;
}

}  // namespace cairn::ml
