# bench-rfc.gp: the pictures of tools/bench-rfc.sh, from its CSV.
# Set by the script (gnuplot -e): csv, out (a directory), machine (its
# description), setups (the setups run on 2 CPUs), corral and corral1 (the
# corral setups run on 2 CPUs and on 1). Columns: 1 cpus, 2 setup,
# 4 offered_rps, 11-14 p50 p75 p95 p99 (ms), 7-9 errors and timeouts.
# Latency axes are logarithmic: past saturation latencies grow by orders
# of magnitude.
set datafile separator comma
set terminal pngcairo size 1400,900 font "DejaVu Sans,10"
set logscale y
set ytics (1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000, 10000, 20000, 50000)
set grid
set key top left
set xlabel "offered requests/s"
set ylabel "latency (ms, from the scheduled send)"

# one latency range for every panel, so that panels compare at a glance
stats csv using 11 nooutput
low = STATS_min
stats csv using 14 nooutput
set yrange [low * 0.8 : STATS_max * 1.25]

percentile_column(i) = 10 + i
percentile_name(i) = word("p50 p75 p95 p99", i)
# a cell of column `col` for the rows of setup `s` on `c` CPUs, undefined elsewhere
pick(c, s, col) = (column(1) == c && strcol(2) eq s) ? column(col) : NaN
# one colour per corral setup, whatever CPUs it ran on
colour(s) = s eq "corral-classic" ? 1 : s eq "corral-2" ? 2 : s eq "corral-4" ? 3 : 4

# 1. every setup on 2 CPUs: its four percentiles against the offered rate
set output out . "/bench-rfc-setups.png"
n = words(setups)
set multiplot layout ceil(n / 2.0), 2 title "Latency percentiles by setup (servers on 2 CPUs), " . machine
do for [k = 1:n] {
    s = word(setups, k)
    set title s
    plot for [i = 1:4] csv using 4:(pick(2, s, percentile_column(i))) \
         with linespoints title percentile_name(i)
}
unset multiplot

# 2. corral against the peers: one panel per percentile, one line per setup
set output out . "/bench-rfc-compare.png"
set multiplot layout 2, 2 title "corral and its peers (servers on 2 CPUs), " . machine
do for [i = 1:4] {
    set title percentile_name(i)
    plot for [k = 1:n] csv using 4:(pick(2, word(setups, k), percentile_column(i))) \
         with linespoints title word(setups, k)
}
unset multiplot

# 3. the RFC's comparison, classic vs 2 vs 4 workers, on 2 CPUs (solid)
#    and on 1 CPU (dashed: taskset -c 0)
if (words(corral) + words(corral1) > 0) {
    set output out . "/bench-rfc-classic-2-4.png"
    set multiplot layout 2, 2 title "classic vs 2 vs 4 workers: 2 CPUs (solid), 1 CPU (dashed), " . machine
    do for [i = 1:4] {
        set title percentile_name(i)
        plot for [k = 1:words(corral)] csv using 4:(pick(2, word(corral, k), percentile_column(i))) \
                 with linespoints lc colour(word(corral, k)) dt 1 title word(corral, k) . " (2 CPUs)", \
             for [k = 1:words(corral1)] csv using 4:(pick(1, word(corral1, k), percentile_column(i))) \
                 with linespoints lc colour(word(corral1, k)) dt 2 title word(corral1, k) . " (1 CPU)"
    }
    unset multiplot
}
