import type { Rng } from './prng.ts';

/**
 * A small synthetic tau-bench results file in the real format (JSON array of
 * `{task_id, reward, info, traj, trial}`, OpenAI messages, tool messages with `name`, no
 * timestamps). Task ids start at 500 so they never collide with the real airline tasks (0-49).
 */

const SYSTEM =
  '# Airline Agent Policy\n\nThe current time is 2024-05-15 15:00:00 EST.\n\nAs an airline agent, you can help users book, modify, or cancel flight reservations. Before any action that updates the booking database, list the action details and obtain explicit user confirmation (yes). Make one tool call at a time.';
const USERS = [
  'mia_li_3668',
  'omar_davis_3817',
  'sofia_kim_7287',
  'raj_sanchez_7340',
  'chen_lee_6825',
  'ava_moore_2033',
];
const ROUTES: Array<[string, string]> = [
  ['JFK', 'SEA'],
  ['ORD', 'LAX'],
  ['SFO', 'BOS'],
  ['ATL', 'DEN'],
  ['MIA', 'PHX'],
];
const CALL_CHARS = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';

interface Action {
  name: string;
  kwargs: Record<string, unknown>;
}

/** The elements of the synthetic file, in order (task-major, trial-minor). */
export function* tauBenchElements(
  rng: Rng,
  tasks: number,
  trials: number,
): Generator<Record<string, unknown>> {
  for (let t = 0; t < tasks; t++) {
    const taskId = 500 + t;
    const user = rng.pick(USERS);
    const [origin, destination] = rng.pick(ROUTES);
    const cabin = rng.pick(['economy', 'business', 'basic_economy']);
    const date = `2024-05-${String(rng.range(16, 30)).padStart(2, '0')}`;
    const flight = `HAT${String(rng.range(1, 299)).padStart(3, '0')}`;
    const bags = rng.range(0, 3);
    const instruction = `You are ${user}. You want to fly from ${origin} to ${destination} on ${date} (one way) in ${cabin.replace('_', ' ')} with ${bags} checked bags. You do not want insurance.`;
    const goodAction: Action = {
      name: 'book_reservation',
      kwargs: {
        user_id: user,
        origin,
        destination,
        flight_type: 'one_way',
        cabin,
        flights: [{ flight_number: flight, date }],
        total_baggages: bags,
        insurance: 'no',
      },
    };
    const successRate = rng.pick([0.25, 0.5, 0.75]);
    for (let trial = 0; trial < trials; trial++) {
      const ok = rng.chance(successRate);
      const taken: Action = ok
        ? goodAction
        : {
            name: 'book_reservation',
            kwargs: {
              ...goodAction.kwargs,
              insurance: 'yes',
              cabin: cabin === 'economy' ? 'business' : 'economy',
            },
          };
      const traj: Array<Record<string, unknown>> = [
        { role: 'system', content: SYSTEM },
        {
          role: 'user',
          content: `Hi, I'd like to book a one-way flight from ${origin} to ${destination} on ${date}.`,
        },
        { role: 'assistant', content: 'Sure! Could you give me your user id?' },
        { role: 'user', content: `It's ${user}.` },
      ];
      const call = (name: string, args: Record<string, unknown>, result: string): void => {
        const id = `call_${rng.chars(24, CALL_CHARS)}`;
        traj.push({
          content: null,
          role: 'assistant',
          tool_calls: [{ function: { arguments: JSON.stringify(args), name }, id, type: 'function' }],
        });
        traj.push({ role: 'tool', tool_call_id: id, name, content: result });
      };
      call(
        'get_user_details',
        { user_id: user },
        JSON.stringify({
          user_id: user,
          membership: rng.pick(['regular', 'silver', 'gold']),
          payment_methods: { credit_card_4421486: { source: 'credit_card', last_four: '7447' } },
        }),
      );
      call(
        'search_direct_flight',
        { origin, destination, date },
        JSON.stringify([
          {
            flight_number: flight,
            origin,
            destination,
            status: 'available',
            prices: { basic_economy: 89, economy: 142, business: 512 },
          },
        ]),
      );
      traj.push({
        role: 'assistant',
        content: `I found ${flight} on ${date}. Shall I book it in ${String(taken.kwargs.cabin).replace('_', ' ')} with ${bags} bags${taken.kwargs.insurance === 'yes' ? ' and travel insurance' : ''}? (yes/no)`,
      });
      traj.push({ role: 'user', content: 'yes' });
      call(
        taken.name,
        taken.kwargs,
        JSON.stringify({
          reservation_id: rng.chars(6, 'ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789'),
          status: 'booked',
        }),
      );
      traj.push({ role: 'assistant', content: 'Your flight is booked. Anything else?' });
      traj.push({ role: 'user', content: '###STOP###' });
      const reward = ok ? 1 : 0;
      yield {
        task_id: taskId,
        reward,
        info: {
          task: { user_id: user, actions: [goodAction], instruction, outputs: [] },
          source: 'user',
          user_cost: Math.round(rng.next() * 5000) / 1_000_000,
          reward_info: {
            reward,
            info: { r_actions: reward, gt_data_hash: rng.chars(64, '0123456789abcdef') },
            actions: [goodAction],
          },
        },
        traj,
        trial,
      };
    }
  }
}
