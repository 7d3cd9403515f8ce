# Plots the idle-scaling curves written by bench/report.py (--out-dat).
# gnuplot -e "datafile='idle_scaling.dat'; outfile='idle_scaling.png'; nseries=4" idle_scaling.gp
if (!exists("datafile")) datafile = "idle_scaling.dat"
if (!exists("outfile")) outfile = "idle_scaling.png"
if (!exists("nseries")) nseries = 1
set terminal pngcairo size 900,540 font "sans,11" noenhanced
set output outfile
# Readable colours on white, one per series.
set linetype 1 lc rgb "#1b6ac9"
set linetype 2 lc rgb "#d1481a"
set linetype 3 lc rgb "#2e9e44"
set linetype 4 lc rgb "#8e44ad"
set linetype 5 lc rgb "#222222"
set linetype 6 lc rgb "#c28f00"
set linetype 7 lc rgb "#17a2b8"
set linetype 8 lc rgb "#e83e8c"
set title "Round trip of one active connection among idle ones (p50, loopback)"
set xlabel "idle connections held open"
set ylabel "p50 round trip (µs, log scale)"
set logscale y 10
set format y "%.0f"
set xrange [-0.2:2.2]
set yrange [10:*]
set key outside right top
set grid ytics mytics
set datafile missing "NaN"
plot for [i=3:(2 + nseries)] datafile using 1:i:xtic(2) with linespoints lw 2 pt (i + 3) ps 1.4 title columnhead(i)
