#pragma once
// First-principles cost of compute-in-memory crossbar arrays: how a weight matrix is cut into arrays (bit-slicing a
// weight across columns, rows across arrays), and the latency and energy of pushing one input vector through them
// (bit-serial inputs through DACs, ADC rounds over shared converters, shift-and-add, digital accumulation of the
// partial sums of row blocks). Kept free of SystemC so tests can check it against hand arithmetic.
#include <algorithm>
#include <cmath>
#include <cstdint>

namespace xpu {

struct CimArraySpec {
  int64_t rows = 128, columns = 128;
  int64_t bits_per_cell = 2;
  int64_t weight_bits = 8, input_bits = 8, output_bits = 16;
  int64_t dac_bits = 1;         // input bits applied per array cycle (radix-4 Booth digital macros: 2)
  int64_t rows_active = 128;    // rows driven at once (the ADC's range limits it on analog arrays)
  int64_t adc_bits = 8;         // 0: a digital adder tree per column, no converter
  int64_t adcs_per_array = 1;   // converters shared by the columns of one array
  double array_read_s = 100e-9; // one array cycle: drive rows, settle bitlines, sample (or one macro clock)
  double adc_conversion_s = 0;  // one conversion on one converter
  double accumulate_s = 1e-9;   // one stage of the adder tree joining row blocks
  double dac_j = 0;             // per row driven per cycle (DAC or input driver)
  double array_j = 0;           // per array activation (bitlines, sample-and-hold, sense)
  double adc_j = 0;             // per conversion (or per column adder-tree output in digital macros)
  double shift_add_j = 0;       // per column result shifted and added into its weight's sum
  double accumulate_j = 0;      // per partial-sum addition across arrays (row blocks, row groups)
  double buffer_j_per_bit = 0;  // tile input/output buffer access
  double write_j_per_cell = 0;  // programming one cell
  double write_row_s = 0;       // programming one row of an array (cells of a row in parallel, with verify)

  int64_t cells_per_weight() const { return (weight_bits + bits_per_cell - 1) / bits_per_cell; }
  int64_t weights_per_row() const { return std::max<int64_t>(1, columns / cells_per_weight()); }
  int64_t input_slices() const { return (input_bits + dac_bits - 1) / dac_bits; }
  bool digital() const { return adc_bits == 0; }
};

// A K x N weight matrix cut into arrays: row blocks of `rows` along K, column blocks of `weights_per_row` along N.
struct CimMatrixMap {
  int64_t k = 0, n = 0;
  int64_t row_blocks = 0, col_blocks = 0;
  int64_t arrays() const { return row_blocks * col_blocks; }
};

inline CimMatrixMap cim_map(const CimArraySpec& a, int64_t k, int64_t n) {
  CimMatrixMap m;
  m.k = k;
  m.n = n;
  m.row_blocks = (k + a.rows - 1) / a.rows;
  m.col_blocks = (n + a.weights_per_row() - 1) / a.weights_per_row();
  return m;
}

// Counts and cost of one pass of one input vector over the arrays of a matrix.
struct CimPassCost {
  double cycles = 0;             // array cycles of the slowest array (input slices x row groups)
  double cycle_s = 0;            // one cycle: the array read or the ADC round over its shared columns, if longer
  double latency_s = 0;          // cycles x cycle_s + the adder tree across row blocks
  double dac = 0, activations = 0, conversions = 0, shift_adds = 0, accumulations = 0, buffer_bits = 0;
  double energy_j = 0;
};

// `rows_driven`: rows carrying input, summed over the row blocks used (K for a matmul, the looked-up rows for an
// embedding bag), at most `rows_per_block` in one block; `input_bits`: 1 for multi-hot lookups.
inline CimPassCost cim_pass(const CimArraySpec& a, const CimMatrixMap& m, double rows_driven, int64_t rows_per_block,
                            int64_t input_bits, int64_t row_blocks_used) {
  CimPassCost c;
  const int64_t slices = (input_bits + a.dac_bits - 1) / a.dac_bits;
  const int64_t driven = std::max<int64_t>(1, std::min(rows_per_block, a.rows));
  const int64_t groups = (driven + a.rows_active - 1) / a.rows_active;
  const int64_t cols_full = std::min(m.n, a.weights_per_row()) * a.cells_per_weight();
  c.cycles = double(slices * groups);
  const double adc_round = a.digital() ? 0.0
                                       : double((cols_full + a.adcs_per_array - 1) / a.adcs_per_array) * a.adc_conversion_s;
  c.cycle_s = std::max(a.array_read_s, adc_round);
  const double stages = row_blocks_used * groups > 1 ? std::ceil(std::log2(double(row_blocks_used * groups))) : 0.0;
  c.latency_s = c.cycles * c.cycle_s + stages * a.accumulate_s;
  const double cells_out = double(m.n) * a.cells_per_weight();  // used columns summed over the column blocks
  c.dac = double(slices) * rows_driven * m.col_blocks;
  c.activations = double(slices * groups) * row_blocks_used * m.col_blocks;
  c.conversions = double(slices * groups) * row_blocks_used * cells_out;
  c.shift_adds = c.conversions;
  c.accumulations = double(m.n) * std::max<int64_t>(0, row_blocks_used * groups - 1);
  c.buffer_bits = rows_driven * input_bits * m.col_blocks + double(m.n) * a.output_bits;
  c.energy_j = c.dac * a.dac_j + c.activations * a.array_j + c.conversions * a.adc_j + c.shift_adds * a.shift_add_j +
               c.accumulations * a.accumulate_j + c.buffer_bits * a.buffer_j_per_bit;
  return c;
}

// A matmul's pass: every row of every row block carries one input element.
inline CimPassCost cim_mvm(const CimArraySpec& a, const CimMatrixMap& m) {
  return cim_pass(a, m, double(m.k), std::min(m.k, a.rows), a.input_bits, m.row_blocks);
}

// Writing one copy of the matrix into its arrays.
struct CimProgramCost {
  double cells = 0, bytes = 0, time_s = 0, energy_j = 0;
};

inline CimProgramCost cim_program(const CimArraySpec& a, const CimMatrixMap& m, double program_bandwidth) {
  CimProgramCost p;
  p.cells = double(m.k) * m.n * a.cells_per_weight();
  p.bytes = double(m.k) * m.n * a.weight_bits / 8.0;
  const double rows = double(std::min(m.k, a.rows));  // arrays are written in parallel, a row at a time
  p.time_s = std::max(program_bandwidth > 0 ? p.bytes / program_bandwidth : 0.0, rows * a.write_row_s);
  p.energy_j = p.cells * a.write_j_per_cell;
  return p;
}

}  // namespace xpu
